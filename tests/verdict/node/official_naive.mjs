// Claude through @anthropic-ai/sdk with its defaults, and nothing else.
import Anthropic from "@anthropic-ai/sdk";
import { askAll } from "./_ask.mjs";

const anthropic = new Anthropic();

await askAll(async (question) => {
  const message = await anthropic.messages.create({
    model: "claude-sonnet-4-6",
    max_tokens: 256,
    messages: [{ role: "user", content: question }],
  });
  return message.content[0].text;
});
