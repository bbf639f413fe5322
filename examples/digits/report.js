// report.html: a self-contained page (inline SVG, no scripts) with the curves, the table and the
// gradient histograms of a digits run.

const COLORS = { off: "#8c8c8c", on: "#d9480f" };
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const fmt = (x) => (Math.abs(x) >= 100 || x === 0 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toPrecision(3) : x.toPrecision(2));

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo, hi, count = 5) {
  const step0 = (hi - lo) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= step0);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const W = 460;
const H = 260;
const M = { left: 56, right: 14, top: 28, bottom: 40 };

function frame(title, xLabel, yLabel, body) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(title)}">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="17" text-anchor="middle" font-size="13" font-weight="600">${escape(title)}</text>
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escape(xLabel)}</text>
<text transform="translate(13 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escape(yLabel)}</text>
${body}
</svg>`;
}

function axes(x, y, xTicks, yTicks, yLabelOf = fmt, xLabelOf = fmt) {
  const [x0, x1] = [M.left, W - M.right];
  const [y0, y1] = [H - M.bottom, M.top];
  let s = `<g font-size="10" fill="#444" stroke="none">`;
  for (const t of yTicks) s += `<line x1="${x0}" x2="${x1}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/><text x="${x0 - 4}" y="${y(t) + 3}" text-anchor="end">${yLabelOf(t)}</text>`;
  for (const t of xTicks) s += `<text x="${x(t)}" y="${y0 + 13}" text-anchor="middle">${xLabelOf(t)}</text>`;
  return `${s}<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#999"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#999"/></g>`;
}

/**
 * A line chart of per-epoch curves: each series `{ label, color, mean, lo, hi }` is drawn as its
 * mean line over a band from `lo` to `hi` (e.g. min and max over seeds). `logY` plots log10.
 */
export function lineChart({ title, xLabel, yLabel, series, logY = false, legendBottom = false }) {
  const tf = logY ? (v) => Math.log10(Math.max(v, 1e-12)) : (v) => v;
  const values = series.flatMap((s) => [...s.lo, ...s.hi]).map(tf).filter(Number.isFinite);
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  const n = Math.max(...series.map((s) => s.mean.length));
  const x = (i) => M.left + ((W - M.left - M.right) * i) / Math.max(1, n - 1);
  const y = (v) => H - M.bottom - ((H - M.top - M.bottom) * (v - lo)) / (hi - lo);
  // x ticks are epoch indices 0 … n − 1, labelled from 1
  const xTicks = ticks(1, n, 6).filter((t) => Number.isInteger(t) && t >= 1 && t <= n).map((t) => t - 1);
  let body = axes(x, y, xTicks, ticks(lo, hi), logY ? (t) => fmt(10 ** t) : fmt, (i) => String(i + 1));
  series.forEach((s, k) => {
    const band = [...s.hi.map((v, i) => `${x(i).toFixed(1)},${y(tf(v)).toFixed(1)}`), ...s.lo.map((v, i) => `${x(i).toFixed(1)},${y(tf(v)).toFixed(1)}`).reverse()];
    body += `<polygon points="${band.join(" ")}" fill="${s.color}" opacity="0.18"/>`;
    body += `<polyline points="${s.mean.map((v, i) => `${x(i).toFixed(1)},${y(tf(v)).toFixed(1)}`).join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"/>`;
    const ly = legendBottom ? H - M.bottom - 12 - 16 * (series.length - 1 - k) : M.top + 4 + 16 * k;
    body += `<rect x="${W - M.right - 110}" y="${ly}" width="12" height="3" fill="${s.color}"/><text x="${W - M.right - 94}" y="${ly + 5}" font-size="11">${escape(s.label)}</text>`;
  });
  return frame(title, xLabel, yLabel, body);
}

/** Counts of `values` in `bins` equal bins over [lo, hi]. */
export function binCounts(values, lo, hi, bins) {
  const counts = new Array(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo || 1)) * bins)))]++;
  }
  return counts;
}

/** Overlaid histograms of each series' `values` on shared bins. */
export function histogram({ title, xLabel, series, bins }) {
  const all = series.flatMap((s) => Array.from(s.values));
  bins ??= Math.min(60, Math.max(10, Math.round(2 * Math.sqrt(all.length / series.length))));
  const extent = Math.max(...all.map(Math.abs));
  const [lo, hi] = [-extent, extent];
  const counts = series.map((s) => binCounts(s.values, lo, hi, bins));
  const top = Math.max(...counts.flat());
  const x = (v) => M.left + ((W - M.left - M.right) * (v - lo)) / (hi - lo);
  const y = (c) => H - M.bottom - ((H - M.top - M.bottom) * c) / top;
  let body = axes(x, y, ticks(lo, hi, 4), ticks(0, top, 4), (t) => t.toFixed(0));
  series.forEach((s, k) => {
    counts[k].forEach((c, b) => {
      if (c === 0) return;
      const [a, z] = [x(lo + ((hi - lo) * b) / bins), x(lo + ((hi - lo) * (b + 1)) / bins)];
      body += `<rect x="${a.toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(0.5, z - a - 0.5).toFixed(1)}" height="${(y(0) - y(c)).toFixed(1)}" fill="${s.color}" opacity="0.55"/>`;
    });
    body += `<rect x="${W - M.right - 110}" y="${M.top + 2 + 16 * k}" width="10" height="10" fill="${s.color}" opacity="0.55"/><text x="${W - M.right - 94}" y="${M.top + 11 + 16 * k}" font-size="11">${escape(s.label)}</text>`;
  });
  return frame(title, xLabel, "count", body);
}

/** Per-epoch mean, min and max over the runs (one array per run). */
export function band(runs) {
  const n = Math.min(...runs.map((r) => r.length));
  const at = (i) => runs.map((r) => r[i]);
  return {
    mean: Array.from({ length: n }, (_, i) => at(i).reduce((a, b) => a + b, 0) / runs.length),
    lo: Array.from({ length: n }, (_, i) => Math.min(...at(i))),
    hi: Array.from({ length: n }, (_, i) => Math.max(...at(i))),
  };
}

/**
 * The whole page. `results`: `{ optimizer, label, gc, runs: [{ curve: [{ trainLoss, heldOutAccuracy }] }] }[]`;
 * `tableText`, `statsText`: the tables the job printed; `gradients`: `{ name, shape, before, after }[]`.
 */
export function renderReport({ title, intro, results, tableText, statsText, gradients }) {
  const charts = [];
  for (const optimizer of [...new Set(results.map((r) => r.optimizer))]) {
    const pair = results.filter((r) => r.optimizer === optimizer);
    const label = pair[0].label;
    const series = (metric) =>
      pair.map((r) => ({ label: r.gc ? "with GC" : "without GC", color: r.gc ? COLORS.on : COLORS.off, ...band(r.runs.map((run) => run.curve.map((e) => e[metric]))) }));
    charts.push(lineChart({ title: `${label}: training loss`, xLabel: "epoch", yLabel: "cross-entropy (log scale)", series: series("trainLoss"), logY: true }));
    charts.push(lineChart({ title: `${label}: held-out accuracy`, xLabel: "epoch", yLabel: "accuracy", series: series("heldOutAccuracy"), legendBottom: true }));
  }
  const hist = gradients.map((gradient) =>
    histogram({
      title: `${gradient.name} gradient [${gradient.shape.join(", ")}] at initialization`,
      xLabel: "gradient value",
      series: [
        { label: "before GC", color: COLORS.off, values: gradient.before },
        { label: "after GC", color: COLORS.on, values: gradient.after },
      ],
    }),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222}
pre{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}.charts{display:flex;flex-wrap:wrap;gap:12px}
svg{border:1px solid #ddd}</style></head><body>
<h1>${escape(title)}</h1>
<p>${intro}</p>
<h2>Curves (mean over seeds; band: min to max)</h2>
<div class="charts">${charts.join("\n")}</div>
<h2>Results</h2>
<pre>${escape(tableText)}</pre>
<h2>Gradients before and after GC</h2>
<div class="charts">${hist.join("\n")}</div>
<pre>${escape(statsText)}</pre>
</body></html>
`;
}
