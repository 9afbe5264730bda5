#!/usr/bin/env node
// Download a model from the Hugging Face Hub into the cache Python tools share, then embed with it.
//
//   node examples/download.mjs [repo-id] [--revision R]
//
// Honours HF_ENDPOINT, HF_TOKEN, HF_HOME / HF_HUB_CACHE and HF_HUB_OFFLINE, like huggingface_hub.
import { downloadModel, SentenceTransformer, cosineSimilarity } from 'embedrt';

const args = process.argv.slice(2);
const revision = args.includes('--revision') ? args[args.indexOf('--revision') + 1] : 'main';
const repoId = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--revision') ?? 'BAAI/bge-base-en-v1.5';

const { dir, commit, files, downloadedBytes } = await downloadModel(repoId, {
  revision,
  onProgress: (done, total) => process.stderr.write(`\rdownloading ${(done / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB`),
});
if (downloadedBytes > 0) process.stderr.write('\n');
console.log(`${repoId}@${commit.slice(0, 12)}: ${files.length} files in ${dir} (${downloadedBytes} bytes downloaded now)`);

// load() with the hub id finds the same snapshot in the cache, without the network.
const model = await SentenceTransformer.load(repoId, { revision });
const emb = await model.encode(['What was the operating margin in 2023?', 'Operating margin was 21% in fiscal 2023.'], { normalize: true });
console.log(`dim ${emb.dim}, cosine(question, passage) = ${cosineSimilarity(emb.row(0), emb.row(1)).toFixed(4)}`);
model.dispose();
