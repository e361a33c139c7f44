// The Vercel AI SDK's generateText over ai-fallback's createFallback: Claude first, then
// OpenAI when Claude fails. ai-fallback's default predicate (5xx, 429, 408, messages such
// as "overloaded") does not cover a refused or reset connection ("Cannot connect to API"),
// so the app also fails over on any error the AI SDK itself would retry.
import { APICallError, generateText } from "ai";
import { anthropic } from "@ai-sdk/anthropic";
import { openai } from "@ai-sdk/openai";
import { createFallback, defaultShouldRetryThisError } from "ai-fallback";
import { askAll } from "./_ask.mjs";

const model = createFallback({
  models: [anthropic("claude-sonnet-4-6"), openai("gpt-4o")],
  shouldRetryThisError: (error) =>
    defaultShouldRetryThisError(error) || (APICallError.isInstance(error) && error.isRetryable),
  onError: (error, modelId) => console.error(`Error with model ${modelId}: ${error.message}`),
});

await askAll(async (question) => (await generateText({ model, prompt: question })).text);
