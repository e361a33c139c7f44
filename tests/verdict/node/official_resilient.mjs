// Claude through @anthropic-ai/sdk; when Claude fails (after the SDK's own retries),
// the same question goes to OpenAI through the openai SDK. Configured by the environment.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { askAll } from "./_ask.mjs";

const anthropic = new Anthropic();
const openai = new OpenAI();

await askAll(async (question) => {
  try {
    const message = await anthropic.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 256,
      messages: [{ role: "user", content: question }],
    });
    return message.content[0].text;
  } catch (error) {
    if (!(error instanceof Anthropic.APIError)) throw error; // connection errors included
    const completion = await openai.chat.completions.create({
      model: "gpt-4o",
      messages: [{ role: "user", content: question }],
    });
    return completion.choices[0].message.content;
  }
});
