#!/usr/bin/env node
// Writes the seed inputs of native/fuzz/sentencepiece_fuzz.cc into a folder (argument 1): texts with the
// precompiled charsmap of the generated XLM-RoBERTa-style tokenizer (test/fixtures/xlmr-tokenizer), in
// the target's layout [flags][text length, u16 LE][text][charsmap].
import fs from 'node:fs';
import path from 'node:path';
import { xlmrTokenizerJson } from './data-paths.mjs';

const out = process.argv[2];
const json = JSON.parse(fs.readFileSync(xlmrTokenizerJson, 'utf8'));
const charsmap = Buffer.from(json.normalizer.normalizers.find((n) => n.type === 'Precompiled').precompiled_charsmap, 'base64');
const texts = ['Revenue grew 12% in fiscal 2023.', 'ｅ\u0301 Ａ\u030a ﬁ ™\u001eg \u0001abc  café  ', 'a <mask> b', '東京 👨‍👩‍👧 ज़ि', ''];
texts.forEach((t, i) => {
  const bytes = Buffer.from(t, 'utf8');
  const head = Buffer.from([[0, 7, 15, 99, 230][i], bytes.length & 0xff, bytes.length >> 8]);
  fs.writeFileSync(path.join(out, `seed-${i}`), Buffer.concat([head, bytes, charsmap]));
});
