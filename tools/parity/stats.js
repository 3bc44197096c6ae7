/**
 * The parity verdict: the project's seeds against PyTorch's, one outcome metric at a time.
 *
 * A metric is "within PyTorch's spread" when the project's mean over its seeds lies inside
 * PyTorch's mean +- 2 sample standard deviations (n - 1) of its seeds: about where 95% of single
 * PyTorch runs land, were the outcomes normal. The seeds' values, both means and both standard
 * deviations are printed beside the verdict, so a reader can apply another rule.
 */
'use strict';

const SPREAD_SDS = 2;

/** n, mean, sample standard deviation (0 for one value), min and max of finite numbers. */
function summarize(values) {
  if (values.length === 0) throw new Error('summarize: no values');
  for (const v of values) if (!Number.isFinite(v)) throw new Error(`summarize: ${v} is not a finite number`);
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

/** { within, low, high } for the project's values against PyTorch's (both arrays of seeds' values). */
function verdict(ours, torch) {
  const o = summarize(ours);
  const t = summarize(torch);
  if (t.n < 2) throw new Error(`verdict: PyTorch has ${t.n} seed; a spread needs 2 or more`);
  const low = t.mean - SPREAD_SDS * t.sd;
  const high = t.mean + SPREAD_SDS * t.sd;
  return { ours: o, torch: t, low, high, within: o.mean >= low && o.mean <= high };
}

/**
 * Markdown table of the metrics both sides have. `metrics`: [{ key, label, format(v) }];
 * `results`: { ours: [{ seed, metrics }], torch: [...] }. A metric either side lacks is left out
 * and named in `missing`.
 */
function parityTable(metrics, results) {
  const rows = [];
  const missing = [];
  const verdicts = {};
  const seedsOf = (side) => results[side].map((r) => r.seed).join(', ');
  for (const { key, label, format } of metrics) {
    const values = (side) => results[side].map((r) => r.metrics[key]).filter((v) => v !== undefined && v !== null);
    const ours = values('ours');
    const torch = values('torch');
    if (ours.length < results.ours.length || torch.length < results.torch.length || ours.length === 0 || torch.length < 2) {
      missing.push(key);
      continue;
    }
    const v = verdict(ours, torch);
    verdicts[key] = { ...v, oursValues: ours, torchValues: torch };
    const cell = (s, vals) => `${format(s.mean)} +- ${format(s.sd)} (${vals.map(format).join(', ')})`;
    rows.push(`| ${label} | ${cell(v.ours, ours)} | ${cell(v.torch, torch)} | ${format(v.low)} - ${format(v.high)} | ${v.within ? 'within' : '**outside**'} |`);
  }
  const head = [
    `| metric | ours, seeds ${seedsOf('ours')}: mean +- sd (each) | PyTorch, seeds ${seedsOf('torch')}: mean +- sd (each) | PyTorch mean +- 2 sd | verdict |`,
    '|---|---|---|---|---|',
  ];
  return { markdown: [...head, ...rows].join('\n'), verdicts, missing };
}

const percent = (v) => `${(v * 100).toFixed(2)}%`;

module.exports = { SPREAD_SDS, summarize, verdict, parityTable, percent };
