// The reference: Hugging Face tokenizers (the npm package: the Rust implementation).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface HfEncoding {
  getIds(): number[];
  getTypeIds(): number[];
  getAttentionMask(): number[];
  getOffsets(): [number, number][];
  getTokens(): string[];
  getSpecialTokensMask(): number[];
}

export interface HfTokenizer {
  encode(text: string, pair?: string | null, opts?: { addSpecialTokens?: boolean }): Promise<HfEncoding>;
  encodeBatch(inputs: string[], opts?: { addSpecialTokens?: boolean }): Promise<HfEncoding[]>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
  setTruncation(maxLength: number): void;
  disableTruncation(): void;
  disablePadding(): void;
}

export function hfTokenizer(file: string): HfTokenizer {
  const { Tokenizer } = require('tokenizers') as { Tokenizer: { fromFile(f: string): HfTokenizer } };
  return Tokenizer.fromFile(file);
}
