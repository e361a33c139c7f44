// Every Node client, configured by the environment alone (llm-chaos serve's printed env).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { generateText } from "ai";
import { anthropic } from "@ai-sdk/anthropic";
import { openai } from "@ai-sdk/openai";

const results = {};
async function attempt(name, call) {
  try {
    results[name] = { ok: true, text: await call() };
  } catch (error) {
    results[name] = { ok: false, error: String(error && (error.stack || error)) };
  }
}
const messages = [{ role: "user", content: "hi" }];
await attempt("@anthropic-ai/sdk", async () => {
  const reply = await new Anthropic({ maxRetries: 0 }).messages.create({
    model: "claude-sonnet-4-6", max_tokens: 16, messages,
  });
  return reply.content[0].text;
});
await attempt("openai", async () => {
  const reply = await new OpenAI({ maxRetries: 0 }).chat.completions.create({ model: "gpt-4o", messages });
  return reply.choices[0].message.content;
});
await attempt("@ai-sdk/anthropic", async () =>
  (await generateText({ model: anthropic("claude-sonnet-4-6"), prompt: "hi", maxRetries: 0 })).text);
await attempt("@ai-sdk/openai", async () =>
  (await generateText({ model: openai("gpt-4o"), prompt: "hi", maxRetries: 0 })).text);
console.log(JSON.stringify(results));
