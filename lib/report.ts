// The eval report (`embedrt eval --report FILE.html`): one self-contained HTML page — inline CSS and
// plain SVG, no script, no fonts or images from anywhere — with the model card's table per dimension
// and, for each headline metric, a chart of the metric against the Matryoshka dimension beside what an
// embedding of that dimension costs to store (float32, int8, binary).
import type { IRMetrics, IRResults } from './evaluate.js';

export interface EvalReportInput {
  /** What was evaluated: a folder or hub id, shown as given. */
  model: string;
  split: string;
  queries: number;
  corpus: number;
  seconds: number;
  /** evaluateIR's results; the report reads its 'cosine' metrics. */
  results: IRResults;
  /** When the run finished (the page says so). */
  date: Date;
}

/** The headline metrics: a chart each. */
export const HEADLINE: readonly { key: keyof IRMetrics; k: number; label: string }[] = [
  { key: 'ndcg@k', k: 10, label: 'NDCG@10' },
  { key: 'mrr@k', k: 10, label: 'MRR@10' },
  { key: 'map@k', k: 100, label: 'MAP@100' },
  { key: 'accuracy@k', k: 1, label: 'Accuracy@1' },
];

/** Bytes one embedding of `dim` dimensions takes in each storage precision. */
export function bytesPerEmbedding(dim: number): { float32: number; int8: number; binary: number } {
  return { float32: 4 * dim, int8: dim, binary: Math.ceil(dim / 8) };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) => v.toFixed(4);
const bytes = (n: number) => (n >= 1024 ? `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB` : `${n} B`);

const PRECISION_COLORS = { float32: '#9aa5b1', int8: '#5b8def', binary: '#1f3a93' } as const;
const METRIC_COLOR = '#d9480f';

/** One chart: the metric (line, left axis) and the bytes per embedding (bars, right axis, log scale) per dimension. */
function chart(label: string, dims: number[], values: number[]): string {
  const W = 460, H = 260, left = 52, right = 64, top = 28, bottom = 44;
  const plotW = W - left - right, plotH = H - top - bottom;
  // Metric axis: a padded range around the values, so differences between dimensions show.
  const lo = Math.max(0, Math.floor((Math.min(...values) - 0.02) * 20) / 20);
  const hi = Math.min(1, Math.ceil((Math.max(...values) + 0.02) * 20) / 20);
  const span = hi - lo || 1;
  const slot = plotW / dims.length;
  const x = (i: number) => left + slot * (i + 0.5);
  const y = (v: number) => top + plotH - ((v - lo) / span) * plotH;
  // Bytes axis: log scale from 1 B to the largest float32 size.
  const maxBytes = 4 * Math.max(...dims);
  const yb = (b: number) => top + plotH - (Math.log10(b) / Math.log10(maxBytes)) * plotH;
  const parts: string[] = [];
  parts.push(`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(label)} and bytes per embedding by dimension">`);
  parts.push(`<text x="${left}" y="18" class="t">${esc(label)} by dimension</text>`);
  const step = span > 0.5 ? 0.1 : 0.05; // lo and hi are multiples of 0.05
  for (let t = 0; lo + t * step <= hi + 1e-9; t++) {
    const v = lo + t * step;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="g"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" class="a" text-anchor="end">${v.toFixed(2)}</text>`);
  }
  for (let p = 0; 10 ** p <= maxBytes; p++) {
    parts.push(`<text x="${W - right + 6}" y="${(yb(10 ** p) + 4).toFixed(1)}" class="a">${bytes(10 ** p)}</text>`);
  }
  const barW = Math.min(12, slot / 4);
  dims.forEach((d, i) => {
    const b = bytesPerEmbedding(d);
    (['float32', 'int8', 'binary'] as const).forEach((p, j) => {
      const top_ = yb(Math.max(1, b[p]));
      parts.push(
        `<rect x="${(x(i) + (j - 1.5) * barW).toFixed(1)}" y="${top_.toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - top_).toFixed(1)}" fill="${PRECISION_COLORS[p]}" opacity="0.55"><title>${d} dims, ${p}: ${bytes(b[p])}</title></rect>`,
      );
    });
    parts.push(`<text x="${x(i).toFixed(1)}" y="${H - bottom + 16}" class="a" text-anchor="middle">${d}</text>`);
  });
  parts.push(`<text x="${left + plotW / 2}" y="${H - 8}" class="a" text-anchor="middle">Matryoshka dimension</text>`);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  parts.push(`<polyline points="${points}" fill="none" stroke="${METRIC_COLOR}" stroke-width="2.5" class="metric"/>`);
  values.forEach((v, i) => {
    parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${METRIC_COLOR}"><title>${dims[i]} dims: ${esc(label)} ${fmt(v)}</title></circle>`);
    parts.push(`<text x="${x(i).toFixed(1)}" y="${(y(v) - 9).toFixed(1)}" class="v" text-anchor="middle">${v.toFixed(3)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The model card's table for one dimension (the metric names of sentence-transformers' evaluator). */
function metricTable(dim: number, m: IRMetrics): string {
  const rows: string[] = [];
  const add = (name: string, values: Record<number, number>) => {
    for (const [k, v] of Object.entries(values)) rows.push(`<tr><td>cosine_${name}@${k}</td><td>${fmt(v)}</td></tr>`);
  };
  add('accuracy', m['accuracy@k']);
  add('precision', m['precision@k']);
  add('recall', m['recall@k']);
  add('ndcg', m['ndcg@k']);
  add('mrr', m['mrr@k']);
  add('map', m['map@k']);
  return `<table class="card"><caption>dim_${dim}</caption><thead><tr><th>Metric</th><th>Value</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The report's HTML (a whole document). Dimensions run from the largest to the smallest. */
export function renderEvalReport(input: EvalReportInput): string {
  const dims = Object.keys(input.results).map(Number).sort((a, b) => b - a);
  const cosine = (d: number): IRMetrics => {
    const m = input.results[d]?.cosine;
    if (!m) throw new Error(`renderEvalReport: no cosine metrics for dimension ${d}`);
    return m;
  };
  const full = dims[0]!;
  const headline = HEADLINE.map((h) => ({ ...h, values: dims.map((d) => cosine(d)[h.key][h.k] ?? NaN) }));
  for (const h of headline) {
    if (h.values.some((v) => !Number.isFinite(v))) throw new Error(`renderEvalReport: ${h.label} is missing for some dimension`);
  }
  const tradeRows = dims
    .map((d, i) => {
      const b = bytesPerEmbedding(d);
      const ndcg = headline[0]!.values;
      return `<tr><td>${d}</td>${headline.map((h) => `<td>${fmt(h.values[i]!)}</td>`).join('')}<td>${((ndcg[i]! / ndcg[0]!) * 100).toFixed(1)}%</td><td>${bytes(b.float32)}</td><td>${bytes(b.int8)}</td><td>${bytes(b.binary)}</td></tr>`;
    })
    .join('');
  const legend = (['float32', 'int8', 'binary'] as const)
    .map((p) => `<span class="key"><i style="background:${PRECISION_COLORS[p]}"></i>${p} bytes</span>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>embedrt eval — ${esc(input.model)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
.meta { color: #57606a; margin-top: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 1rem; }
svg { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; }
svg .t { font-size: 14px; font-weight: 600; fill: #1b1f24; }
svg .a { font-size: 11px; fill: #57606a; }
svg .v { font-size: 10px; fill: ${METRIC_COLOR}; }
svg .g { stroke: #eaeef2; }
.legend { margin: 0.5rem 0 1rem; color: #57606a; }
.key { margin-right: 1rem; white-space: nowrap; }
.key i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: right; }
th:first-child, td:first-child { text-align: left; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 1.5rem; }
</style>
</head>
<body>
<h1>Information retrieval by Matryoshka dimension</h1>
<p class="meta">${esc(input.model)} · split ${esc(input.split)} · ${input.queries} queries over ${input.corpus} documents · cosine similarity · ${input.seconds.toFixed(1)} s · ${esc(input.date.toISOString())}</p>
<h2>Quality against storage</h2>
<p class="legend"><span class="key"><i style="background:${METRIC_COLOR}"></i>metric (left axis)</span>${legend}<span class="key">(right axis, log scale)</span></p>
<div class="charts">
${headline.map((h) => chart(h.label, dims, h.values)).join('\n')}
</div>
<table class="trade"><caption>Trade-off per dimension</caption>
<thead><tr><th>dim</th>${headline.map((h) => `<th>${h.label}</th>`).join('')}<th>NDCG@10 of dim ${full}</th><th>float32</th><th>int8</th><th>binary</th></tr></thead>
<tbody>${tradeRows}</tbody></table>
<h2>Metrics per dimension</h2>
<div class="cards">
${dims.map((d) => metricTable(d, cosine(d))).join('\n')}
</div>
</body>
</html>
`;
}
