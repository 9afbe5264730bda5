// Deterministic financial-style texts for examples and benchmarks, so that neither needs a data set:
// passage i states one figure of one (made-up) company, and question(i) asks for exactly that figure.
// 40 companies × 25 metrics give 1,000 distinct (company, metric) pairs; past that, the fiscal year
// changes too, so every passage of a run stays distinct (up to 40 × 25 × 30 = 30,000; larger runs repeat).

const COMPANIES = [
  'Northwind Logistics', 'Contoso Pharmaceuticals', 'Fabrikam Semiconductors', 'Tailspin Airlines', 'Woodgrove Bank',
  'Litware Software', 'Adventure Works Outdoor', 'Proseware Health', 'Alpine Ski House Resorts', 'Coho Vineyards',
  'Wide World Importers', 'Lucerne Publishing', 'Margie Travel Group', 'Trey Research', 'Humongous Insurance',
  'Blue Yonder Energy', 'Graphic Design Institute', 'Fourth Coffee Holdings', 'Southridge Media', 'Wingtip Toys',
  'Bellows College Press', 'Datum Analytics', 'Relecloud Networks', 'VanArsdel Foods', 'Lamna Healthcare',
  'Consolidated Messenger', 'Nod Publishers', 'Tasmanian Traders', 'School of Fine Art Retail', 'Best For You Organics',
  'City Power & Light', 'Contoso Steel', 'Fabrikam Residences', 'Northwind Traders Capital', 'Woodgrove Payments',
  'Litware Semiconductor Tools', 'Adatum Biosciences', 'Tailwind Motors', 'Proseware Cloud', 'Coho Shipping',
];
const METRICS = [
  ['total revenue', 'billion', 'driven by higher volumes in its largest segment'],
  ['net income', 'million', 'reflecting lower interest expense and a one-time tax benefit'],
  ['operating income', 'million', 'as cost savings offset wage inflation'],
  ['free cash flow', 'million', 'after capital expenditures for two new facilities'],
  ['research and development expense', 'million', 'mainly for next-generation products'],
  ['cash dividends paid', 'million', 'under a policy of paying quarterly dividends'],
  ['share repurchases', 'million', 'under the program the board authorized'],
  ['long-term debt', 'billion', 'after refinancing notes that matured during the year'],
  ['capital expenditures', 'million', 'focused on capacity expansion and maintenance'],
  ['goodwill impairment', 'million', 'recorded in the fourth quarter for its international unit'],
  ['backlog', 'billion', 'supported by multi-year contracts with government customers'],
  ['restructuring charges', 'million', 'related to a reduction of the workforce'],
  ['advertising expense', 'million', 'to support the launch of new brands'],
  ['inventory', 'million', 'as the company built stock ahead of the holiday season'],
  ['accounts receivable', 'million', 'due to longer payment terms with large customers'],
  ['deferred revenue', 'million', 'from subscriptions billed annually in advance'],
  ['income tax expense', 'million', 'at an effective tax rate below the statutory rate'],
  ['interest expense', 'million', 'because of higher rates on its variable-rate debt'],
  ['stock-based compensation', 'million', 'granted mainly as restricted stock units'],
  ['pension contributions', 'million', 'to its defined benefit plans in the United States'],
  ['litigation reserves', 'million', 'for product liability claims pending at year end'],
  ['cash and cash equivalents', 'billion', 'held largely by foreign subsidiaries'],
  ['operating lease liabilities', 'million', 'mostly for warehouses and retail stores'],
  ['net interest income', 'billion', 'as loan yields rose faster than deposit costs'],
  ['gross margin', 'percent', 'compared with the prior year on a better product mix'],
];

function figure(i) {
  // A fixed, well-spread amount per index (no Math.random: every run and machine sees the same texts).
  const x = (Math.imul(i + 1, 2654435761) >>> 0) / 4294967296;
  return (1 + x * 98).toFixed(1);
}

function parts(i) {
  const company = COMPANIES[i % COMPANIES.length];
  const [metric, unit, reason] = METRICS[Math.floor(i / COMPANIES.length) % METRICS.length];
  const year = 2023 - (Math.floor(i / (COMPANIES.length * METRICS.length)) % 30);
  return { company, metric, unit, reason, year, amount: figure(i) };
}

/** The i-th passage (i ≥ 0), e.g. "In fiscal 2023, Northwind Logistics reported total revenue of $12.3 billion, …". */
export function passage(i) {
  const p = parts(i);
  const value = p.unit === 'percent' ? `${p.amount}%` : `$${p.amount} ${p.unit}`;
  return `In fiscal ${p.year}, ${p.company} reported ${p.metric} of ${value}, ${p.reason}.`;
}

/** The question whose answer is passage(i). */
export function question(i) {
  const p = parts(i);
  const owner = p.company.endsWith('s') ? `${p.company}'` : `${p.company}'s`;
  return `What was ${owner} ${p.metric} in fiscal ${p.year}?`;
}

/** passage(0) … passage(n - 1). */
export function passages(n) {
  return Array.from({ length: n }, (_, i) => passage(i));
}
