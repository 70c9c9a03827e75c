// The official OpenAI Node SDK (npm `openai`) against the gateway, as an application would use it. Prints one JSON
// line per step for OpenAiNodeSdkTests to check; the checks live there. Exits non-zero only if a step that should
// work throws.
// Env: OPENAI_NODE (the npm prefix the SDK is installed under: scripts/test-services.sh), BASE (the gateway's /v1
// URL), KEY (an API key), MODEL (served by a healthy sim), BROKEN (served by a sim that breaks every answer).
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.OPENAI_NODE}/`);
const { OpenAI } = require('openai');
const { BASE: baseURL, KEY: apiKey, MODEL: model, BROKEN: broken } = process.env;

const out = (step, fields) => console.log(JSON.stringify({ step, ...fields }));
const failure = (err) => ({ error: err.constructor.name, status: err.status ?? null, code: err.code ?? null, message: err.message });
// No retries, so every failure shows as the gateway answered it.
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: 'user', content: 'Describe the lagoon at dawn.' }];

const chat = await client.chat.completions.create({ model, messages, max_tokens: 6 });
out('chat', { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage });

let text = '';
let contentEvents = 0;
let finish = null;
let usage = null;
const stream = await client.chat.completions.create({
  model, messages, max_tokens: 6, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  const choice = chunk.choices[0];
  if (choice?.delta?.content) {
    text += choice.delta.content;
    contentEvents++;
  }
  finish = choice?.finish_reason ?? finish;
  usage = chunk.usage ?? usage;
}
out('stream', { content: text, contentEvents, finish, usage });

const ids = [];
for await (const m of client.models.list()) {
  ids.push(m.id);
}
out('models', { ids });

const completion = await client.completions.create({ model, prompt: 'The reef', max_tokens: 4 });
out('completions', { text: completion.choices[0].text, usage: completion.usage });

const embedding = await client.embeddings.create({ model, input: 'hello' });
// The SDK asks for base64 and decodes it: the vector must come out as the sim's floats.
out('embeddings', { embedding: embedding.data[0].embedding });

try {
  await client.chat.completions.create({ model: 'no-such-model', messages });
  out('unknown model', { error: null });
} catch (err) {
  out('unknown model', failure(err));
}

try {
  await new OpenAI({ baseURL, apiKey: 'sk-not-a-key', maxRetries: 0 }).models.list();
  out('wrong key', { error: null });
} catch (err) {
  out('wrong key', failure(err));
}

// A model server that dies part-way through every answer: the stream must throw, not end as if complete.
text = '';
try {
  const s = await client.chat.completions.create({ model: broken, messages, max_tokens: 12, stream: true });
  for await (const chunk of s) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  out('broken stream', { error: null, content: text });
} catch (err) {
  out('broken stream', { ...failure(err), content: text });
}

try {
  await client.chat.completions.create({ model: broken, messages, max_tokens: 12 });
  out('broken', { error: null });
} catch (err) {
  out('broken', failure(err));
}
