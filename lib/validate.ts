// Small checks shared by the TypeScript layer ("TS validates, C++ trusts").
import fs from 'node:fs';
import { EmbedrtError } from './errors.js';

export function isInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Reads and parses a JSON file; a missing or malformed file is an E_MODEL_FILES error naming it. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new EmbedrtError(
      'E_MODEL_FILES',
      code === 'ENOENT' ? `${file}: not found (expected ${what})` : `${file}: cannot read (${code ?? String(e)})`,
      { cause: e },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new EmbedrtError('E_MODEL_FILES', `${file}: not valid JSON (expected ${what}): ${(e as Error).message}`, {
      cause: e,
    });
  }
}
