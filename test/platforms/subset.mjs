// The fidelity subset each platform runs (linux-x64 here, linux-arm64 under qemu-user, win32-x64 under
// Wine): from an app folder where embedrt was installed from its packed tarballs with scripts disabled.
//   node subset.mjs <input.json> <output.json>
// input: { model, texts, encode, queries }. Output: the runtime, the token ids of every text, the
// embeddings of the first `encode` texts and a semantic search of the first `queries` of them against
// all of them. Output goes to a file: Wine's Node cannot write to a pipe it inherits.
import fs from 'node:fs';
import { SentenceTransformer, Tokenizer, runtimeInfo, semanticSearch } from 'embedrt';

const [inFile, outFile] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(inFile, 'utf8'));
const started = Date.now();
const tokenizer = Tokenizer.fromPretrained(input.model);
const ids = input.texts.map((t) => Array.from(tokenizer.encode(t).ids));
const model = await SentenceTransformer.load(input.model, { cacheDir: input.cacheDir, threads: 1 });
const emb = await model.encode(input.texts.slice(0, input.encode));
const queries = { data: emb.data.slice(0, input.queries * emb.dim), rows: input.queries, dim: emb.dim };
const hits = await semanticSearch(queries, emb, { topK: 5 });
model.dispose();
fs.writeFileSync(
  outFile,
  JSON.stringify({
    runtime: runtimeInfo(),
    ids,
    dim: emb.dim,
    embeddings: Array.from(emb.data),
    hits,
    seconds: (Date.now() - started) / 1000,
  }),
);
