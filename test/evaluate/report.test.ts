// `embedrt eval --report FILE.html`: the page's tables and charts hold the run's own metrics (read back
// from the HTML and compared with the same run's --json), it carries everything it shows (no URL, no
// script; rendered with the network closed), and Chromium draws its charts (pixels of the metric's
// colour in a screenshot, and next to none once the charts are taken out).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADLINE, bytesPerEmbedding, renderEvalReport } from '../../lib/report.js';
import type { IRResults } from '../../lib/evaluate.js';
import { screenshot } from '../helpers/chromium.js';
import { financialQa, repoRoot } from '../helpers/data.js';
import { makeModel, tempDir } from '../helpers/models.js';
import { decodePng } from '../helpers/png.js';

const cli = path.join(repoRoot, 'dist', 'cli.js');
const DIMS = [64, 48, 32, 16];
let root: string;
let model: string;
let data: string;
let html: string;
let results: IRResults;

beforeAll(() => {
  root = tempDir('report');
  model = makeModel(root, 'model', { pooling: 'cls', shape: { hidden_size: 64, num_hidden_layers: 1, num_attention_heads: 4, intermediate_size: 64 } });
  data = path.join(root, 'qa.jsonl');
  fs.writeFileSync(data, financialQa().slice(0, 300).map((r) => JSON.stringify({ question: r.question, context: r.context })).join('\n'));
  const out = path.join(root, 'report.html');
  const r = spawnSync(process.execPath, [cli, 'eval', '--model', model, '--data', data, '--dims', DIMS.join(','), '--json', '--report', out, '--no-progress'], {
    encoding: 'utf8',
    env: { ...process.env, EMBEDRT_CACHE: path.join(root, 'cache') },
  });
  if (r.status !== 0) throw new Error(`eval failed (${r.status}): ${r.stderr}`);
  expect(r.stderr).toContain(`wrote the report to ${out}`);
  results = (JSON.parse(r.stdout) as { results: IRResults }).results;
  html = fs.readFileSync(out, 'utf8');
  expect(fs.existsSync(`${out}.partial`)).toBe(false);
}, 120_000);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The y coordinates of each chart's metric line, in the order of the charts. */
const metricLines = (page: string) =>
  [...page.matchAll(/<polyline points="([^"]*)"[^>]*class="metric"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number) as [number, number]));

describe('embedrt eval --report', () => {
  it("holds the model card's table for every dimension, with the values of the same run's --json", () => {
    for (const d of DIMS) {
      const table = new RegExp(`<caption>dim_${d}</caption>([\\s\\S]*?)</table>`).exec(html)?.[1];
      expect(table, `dim_${d}`).toBeDefined();
      const cells = Object.fromEntries([...table!.matchAll(/<tr><td>cosine_([a-z]+@\d+)<\/td><td>([\d.]+)<\/td><\/tr>/g)].map((m) => [m[1]!, m[2]!]));
      const m = results[d]!.cosine!;
      const expected: Record<string, string> = {};
      for (const [key, values] of Object.entries(m)) {
        for (const [k, v] of Object.entries(values as Record<string, number>)) expected[`${key.replace('@k', '')}@${k}`] = v.toFixed(4);
      }
      expect(cells).toEqual(expected);
      expect(Object.keys(cells)).toHaveLength(4 + 4 + 4 + 1 + 1 + 1);
    }
  });

  it('charts each headline metric against the dimension: the line rises and falls with the values', () => {
    const lines = metricLines(html);
    expect(lines).toHaveLength(HEADLINE.length);
    HEADLINE.forEach((h, c) => {
      const values = DIMS.map((d) => results[d]!.cosine![h.key][h.k]!);
      const pts = lines[c]!;
      expect(pts).toHaveLength(DIMS.length);
      for (let i = 1; i < pts.length; i++) expect(pts[i]![0]).toBeGreaterThan(pts[i - 1]![0]);
      for (let i = 0; i < pts.length; i++) {
        for (let j = 0; j < pts.length; j++) {
          // A higher value is drawn higher (smaller y); values that print the same sit within a pixel.
          if (values[i]! > values[j]! + 0.01) expect(pts[i]![1], `${h.label} ${DIMS[i]} vs ${DIMS[j]}`).toBeLessThan(pts[j]![1]);
        }
      }
      expect(html).toContain(`${h.label} by dimension`);
    });
    // The bytes beside them: float32, int8 and binary per dimension, in the chart and the trade-off table.
    for (const d of DIMS) {
      const b = bytesPerEmbedding(d);
      expect(html).toContain(`<title>${d} dims, float32: ${b.float32} B</title>`);
      expect(html).toContain(`<title>${d} dims, binary: ${b.binary} B</title>`);
      expect(html).toMatch(new RegExp(`<tr><td>${d}</td>(<td>[\\d.]+</td>){4}<td>[\\d.]+%</td><td>${b.float32} B</td><td>${b.int8} B</td><td>${b.binary} B</td></tr>`));
    }
  });

  it('is self-contained: no URL, script, stylesheet link, image or font to fetch', () => {
    expect(html).not.toMatch(/https?:|\/\/[a-z]|<script|<link|<img|<iframe|src=|url\(|@import/i);
  });

  it('escapes what it shows: a model name is text, never markup', () => {
    const page = renderEvalReport({ model: '<img src=x onerror=alert(1)>&', split: 'test', queries: 1, corpus: 1, seconds: 1, results, date: new Date(0) });
    expect(page).not.toContain('<img');
    expect(page).toContain('&#60;img src=x onerror=alert(1)&#62;&#38;');
  });

  it('renders in headless Chromium with the network closed: the charts are drawn', async () => {
    const shoot = async (page: string, name: string) => {
      const file = path.join(root, name);
      fs.writeFileSync(file, page);
      return decodePng(await screenshot(pathToFileURL(file).href, 1100, 1000));
    };
    // Pixels within a small distance of the metric line's colour (#d9480f), and how many colours in all.
    const census = (img: ReturnType<typeof decodePng>) => {
      let metric = 0;
      const colours = new Set<number>();
      for (let i = 0; i < img.width * img.height; i++) {
        const [r, g, b] = [img.rgba[i * 4]!, img.rgba[i * 4 + 1]!, img.rgba[i * 4 + 2]!];
        colours.add((r << 16) | (g << 8) | b);
        if (Math.abs(r - 0xd9) + Math.abs(g - 0x48) + Math.abs(b - 0x0f) < 40) metric++;
      }
      return { metric, colours: colours.size };
    };
    const full = census(await shoot(html, 'shot.html'));
    const bare = census(await shoot(html.replace(/<div class="charts">[\s\S]*?<\/div>/, ''), 'bare.html'));
    if (process.env.EMBEDRT_REPORT) console.log(full, bare);
    expect(full.colours).toBeGreaterThan(100);
    // Four lines of about 300 px at 2.5 px, their points and labels: thousands of pixels; the legend alone, a few hundred.
    expect(full.metric).toBeGreaterThan(1200);
    expect(bare.metric).toBeLessThan(600);
  }, 180_000);

  it('refuses a report it could not write before any work: a missing folder, a folder as the file', () => {
    for (const [report, message] of [
      [path.join(root, 'missing', 'r.html'), /--report .*: cannot write there \(ENOENT\)/],
      [root, /--report .*: is a folder; give a file name/],
    ] as const) {
      const r = spawnSync(process.execPath, [cli, 'eval', '--model', path.join(root, 'no-such-model'), '--data', data, '--report', report], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(message); // not the missing model: the report is checked first
    }
  });
});
