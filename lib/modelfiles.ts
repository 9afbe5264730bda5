// A model folder's files, confined: every file embedrt opens for a model resolves (after symlinks)
// inside the folder — or, for a Hugging Face cache snapshot, inside that repo's blobs/ — and is a
// regular file. A path in a config ("../../x"), a symlink to /etc/passwd or to /dev/zero, a FIFO:
// each is an E_MODEL_FILES error naming the file, before anything is read.
import fs from 'node:fs';
import path from 'node:path';
import { EmbedrtError } from './errors.js';
import { MAX_TEXT_FILE_BYTES, readJsonFile, regularFileSize } from './validate.js';

export class ModelFolder {
  /** The folder as given, resolved (paths in messages and results keep the user's spelling). */
  readonly dir: string;
  private readonly roots: string[];

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    let real = this.dir; // a folder that does not exist holds nothing: has() is false, file() says not found
    try {
      real = fs.realpathSync(this.dir);
    } catch {
      // as above
    }
    this.roots = [real];
    // In (or below) <cache>/models--org--name/snapshots/<commit>, files are links into
    // <cache>/models--org--name/blobs.
    for (let d = real; d !== path.dirname(d); d = path.dirname(d)) {
      const snapshots = path.dirname(d);
      if (path.basename(snapshots) === 'snapshots' && path.basename(path.dirname(snapshots)).startsWith('models--')) {
        this.roots.push(path.join(path.dirname(snapshots), 'blobs'));
        break;
      }
    }
  }

  /** Whether `rel` names something in the folder (any kind of file, even a dangling link). */
  has(rel: string): boolean {
    try {
      fs.lstatSync(this.join(rel));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The absolute path of `rel`, checked: inside the folder (after symlinks), a regular file, at most
   * `maxBytes`. Missing: E_MODEL_FILES "not found (expected <what>)".
   */
  file(rel: string, what: string, maxBytes?: number): string {
    const file = this.join(rel);
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new EmbedrtError('E_MODEL_FILES', code === 'ENOENT' ? `${file}: no such file (expected ${what})` : `${file}: cannot read (${code ?? String(e)})`, { cause: e });
    }
    if (!this.roots.some((r) => real === r || real.startsWith(r + path.sep))) {
      throw new EmbedrtError('E_MODEL_FILES', `${file}: resolves outside the model folder ${this.dir}; embedrt reads model files only inside it`);
    }
    regularFileSize(real, maxBytes);
    return file;
  }

  /** A JSON file of the folder, parsed (confined, regular, size-limited). */
  json(rel: string, what: string): unknown {
    return readJsonFile(this.file(rel, what, MAX_TEXT_FILE_BYTES), what);
  }

  /** A JSON object file when present, else undefined. */
  optionalObject(rel: string, what: string): Record<string, unknown> | undefined {
    if (!this.has(rel)) return undefined;
    const v = this.json(rel, what);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new EmbedrtError('E_MODEL_FILES', `${this.join(rel)}: expected a JSON object (${what})`);
    }
    return v as Record<string, unknown>;
  }

  /** `rel` under the folder; a path that leaves it lexically ("../x", "/etc/x") is refused. */
  join(rel: string): string {
    const file = typeof rel === 'string' ? path.resolve(this.dir, rel) : '';
    if (typeof rel !== 'string' || rel === '' || rel.includes('\0') || !(file === this.dir || file.startsWith(this.dir + path.sep))) {
      throw new EmbedrtError('E_MODEL_FILES', `${JSON.stringify(rel)}: a path outside the model folder ${this.dir}`);
    }
    return file;
  }

  /** Every entry of a subfolder, each checked as file() checks it (the files a graph may load as external data). */
  checkAll(relDir: string): string[] {
    const dir = this.join(relDir);
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => this.file(path.join(relDir, e.name), 'a file beside the graph'))
      .sort();
  }
}
