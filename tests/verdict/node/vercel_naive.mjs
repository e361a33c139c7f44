// The Vercel AI SDK's generateText on Claude with its defaults (maxRetries: 2), and nothing else.
import { generateText } from "ai";
import { anthropic } from "@ai-sdk/anthropic";
import { askAll } from "./_ask.mjs";

await askAll(async (question) =>
  (await generateText({ model: anthropic("claude-sonnet-4-6"), prompt: question })).text);
