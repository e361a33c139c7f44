// ai-fallback as its README shows it: createFallback with its default predicate.
import { generateText } from "ai";
import { anthropic } from "@ai-sdk/anthropic";
import { openai } from "@ai-sdk/openai";
import { createFallback } from "ai-fallback";
import { askAll } from "./_ask.mjs";

const model = createFallback({ models: [anthropic("claude-sonnet-4-6"), openai("gpt-4o")] });

await askAll(async (question) => (await generateText({ model, prompt: question })).text);
