// embedrt download: a hub model into the Hugging Face cache.
import { downloadModel } from '../hub.js';
import { type Command, UsageError, progressBar, mb, parseFlags } from './common.js';

const DOWNLOAD_HELP = `Usage: embedrt download <repo-id> [--revision R] [options]

Downloads the files embedrt needs of a Hugging Face Hub model (configs, tokenizer, model.safetensors —
or onnx/model.onnx when the repo has no safetensors) into the hub cache that Python tools share, and
prints the snapshot folder. Files are checked (size, sha256 / git blob sha1), written to a temporary
name and renamed; an interrupted download resumes where it stopped.

Options:
  --revision <R>     branch, tag or commit (default main)
  --all              every file of the repo
  --cache-dir <dir>  the hub cache (default $HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)
  --endpoint <url>   the hub (default $HF_ENDPOINT or https://huggingface.co)
  --no-progress      no progress bar on stderr

Environment: HF_TOKEN (gated and private repos), HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE=1
(no network: print the cached snapshot or fail).`;

async function download(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags('download', {
    args: argv,
    options: {
      revision: { type: 'string', default: 'main' },
      all: { type: 'boolean', default: false },
      'cache-dir': { type: 'string' },
      endpoint: { type: 'string' },
      'no-progress': { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UsageError(`download: expected one repo id (org/name), got ${positionals.length}\n\n${DOWNLOAD_HELP}`);
  const bar = values['no-progress'] ? undefined : progressBar('downloading', mb);
  try {
    const r = await downloadModel(positionals[0]!, {
      revision: values.revision,
      allFiles: values.all,
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      ...(bar ? { onProgress: (d: number, t: number) => bar.update(d, t) } : {}),
    });
    bar?.finish();
    process.stderr.write(`embedrt: ${positionals[0]}@${r.commit}: ${r.files.length} files, ${mb(r.downloadedBytes)} downloaded\n`);
    process.stdout.write(`${r.dir}\n`);
  } catch (e) {
    bar?.finish();
    throw e;
  }
}

export const downloadCommand: Command = {
  name: 'download',
  summary: 'Download a model from the Hugging Face Hub into its cache (shared with Python tools)',
  help: DOWNLOAD_HELP,
  run: download,
};
