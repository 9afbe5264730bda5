// Seeded generator of strings that mix every Unicode category the BERT pipeline treats specially.
import { rng } from './data.js';

type Piece = (r: () => number) => string;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const inRange = (r: () => number, lo: number, hi: number): string => String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
const ranges = (...rs: [number, number][]): Piece => (r) => {
  const [lo, hi] = pick(r, rs);
  return inRange(r, lo, hi);
};

const whitespace = [' ', '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00a0', '\u1680', '\u2000', '\u2005', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\u180e', '  ', '\r\n'];
const controls = ['\0', '\x01', '\x07', '\x1b', '\x1f', '\x7f', '\x80', '\x9f', '\u00ad', '\u200b', '\u200c', '\u200d',
  '\u200e', '\u200f', '\u2060', '\u2064', '\ufeff', '\ufff9', '\ufffb', '\ufffd', '\u061c', '\u202e', '\u2066'];
const specials = ['[CLS]', '[SEP]', '[PAD]', '[MASK]', '[UNK]', '[cls]', '[SEP', 'SEP]', '[[SEP]]', '[SEP][CLS]'];
const surrogates = ['\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800', '\ud83d', 'x\ude00'];
const asciiWords = ['the', 'Revenue', 'NVIDIA', 'fiscal', '10-K', "don't", 'U.S.', 'e-mail', '$1,234.56', '2023',
  'Q4', 'EBITDA', 'year-over-year', 'CEO’s', 'naïve', 'résumé', 'Ångström', 'straße', 'İstanbul', 'ΣΟΦΙΑ'];

export function makeGenerator(vocab: readonly string[]) {
  const pieces: [number, Piece][] = [
    [20, (r) => pick(r, asciiWords)],
    [15, (r) => pick(r, vocab).replace(/^##/, r() < 0.5 ? '' : '##')],
    [10, ranges([0x41, 0x5a], [0x61, 0x7a], [0x30, 0x39])],
    [6, ranges([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e])],
    [10, (r) => pick(r, whitespace)],
    [4, (r) => pick(r, controls)],
    [5, ranges([0x300, 0x36f], [0x483, 0x489], [0x591, 0x5bd], [0x610, 0x61a], [0x64b, 0x65f], [0xe31, 0xe3a],
      [0x1ab0, 0x1abe], [0x1dc0, 0x1dff], [0x20d0, 0x20f0], [0xfe20, 0xfe2f], [0x1d165, 0x1d169])],
    [5, ranges([0xc0, 0x17f], [0x1e00, 0x1eff], [0x130, 0x131], [0x370, 0x3ff], [0x400, 0x4ff], [0x1f00, 0x1fff])],
    [5, ranges([0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2b740, 0x2b81f], [0xf900, 0xfaff],
      [0x2f800, 0x2fa1f], [0x3040, 0x30ff], [0xac00, 0xd7a3], [0x1100, 0x11ff], [0x3130, 0x318f])],
    [5, ranges([0x1f300, 0x1faff], [0x1f1e6, 0x1f1ff], [0x1f3fb, 0x1f3ff], [0xfe00, 0xfe0f], [0x2600, 0x27bf])],
    [4, ranges([0x590, 0x5ff], [0x600, 0x6ff], [0x750, 0x77f], [0xfb50, 0xfdff], [0xfe70, 0xfeff])],
    [4, ranges([0x2010, 0x2027], [0x3000, 0x303f], [0xff01, 0xff5e], [0xa1, 0xbf], [0x2e00, 0x2e5d], [0xfb00, 0xfb06])],
    [3, (r) => {
      let cp = Math.floor(r() * 0x110000);
      if (cp >= 0xd800 && cp <= 0xdfff) cp += 0x800;
      return String.fromCodePoint(cp);
    }],
    [2, (r) => pick(r, specials)],
    [2, (r) => pick(r, surrogates)],
    [1, (r) => pick(r, ['a', 'é', '東', 'x']).repeat(90 + Math.floor(r() * 25))],
  ];
  const total = pieces.reduce((s, [w]) => s + w, 0);
  return (seed: number): string => {
    const r = rng(seed);
    const u = r();
    const n = u < 0.02 ? 0 : u < 0.72 ? 1 + Math.floor(r() * 20) : u < 0.97 ? 20 + Math.floor(r() * 180) : 200 + Math.floor(r() * 1800);
    let s = '';
    for (let i = 0; i < n; i++) {
      let x = r() * total;
      for (const [w, f] of pieces) {
        x -= w;
        if (x < 0) {
          s += f(r);
          break;
        }
      }
      if (r() < 0.3) s += ' ';
    }
    return s;
  };
}
