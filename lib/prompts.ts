// What encode reads from its arguments before any work: the texts (a string or an array of strings)
// and the prompt, chosen as sentence-transformers chooses it.
import { EmbedrtError } from './errors.js';
import { describe, ownKey } from './validate.js';

/** A string or an array of strings as an array, each element checked (`where` names the call). */
export function textsOf(texts: unknown, where: string): readonly string[] {
  const list = typeof texts === 'string' ? [texts] : texts;
  if (!Array.isArray(list)) throw new EmbedrtError('E_BAD_INPUT', `${where}: expected a string or an array of strings, got ${describe(texts)}`);
  // A plain loop: forEach would skip the holes of a sparse array.
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'string') throw new EmbedrtError('E_BAD_INPUT', `${where}: texts[${i}] must be a string, got ${describe(list[i])}`);
  }
  return list as readonly string[];
}

/** options.prompt, else the prompt named by options.promptName, else the model's default prompt (if any). */
export function promptFor(
  opts: { prompt?: string | null; promptName?: string | null },
  prompts: Readonly<Record<string, string>>,
  defaultPromptName: string | undefined,
): string | undefined {
  if (opts.prompt != null && opts.promptName != null) {
    throw new EmbedrtError('E_BAD_INPUT', 'encode: give options.prompt or options.promptName, not both');
  }
  if (opts.prompt != null) {
    if (typeof opts.prompt !== 'string') throw new EmbedrtError('E_BAD_INPUT', `encode: options.prompt must be a string, got ${describe(opts.prompt)}`);
    return opts.prompt;
  }
  const name = opts.promptName ?? defaultPromptName;
  if (name === undefined) return undefined;
  if (!ownKey(prompts, name)) {
    throw new EmbedrtError('E_BAD_INPUT', `encode: prompt name ${typeof name === 'string' ? JSON.stringify(name) : describe(name)} is not in config_sentence_transformers.json (has: ${Object.keys(prompts).join(', ') || 'none'})`);
  }
  return prompts[name];
}

/**
 * The prompt of sentence-transformers' encode_query / encode_document: the first of `candidates` the
 * model has ("query" and "document" always exist there, "" unless configured).
 */
export function taskPrompt(prompts: Readonly<Record<string, string>>, candidates: readonly string[]): string {
  const all: Record<string, string> = { query: '', document: '', ...prompts };
  return all[candidates.find((c) => ownKey(all, c))!]!;
}
