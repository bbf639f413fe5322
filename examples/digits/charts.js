// Inline SVG charts for report.html and the browser page: line charts, per-unit trajectories and
// histograms. Each chart has a fixed viewBox and scales to the width of its container; its legend
// sits between the title and the plot, so it never covers the data.

export const COLORS = { off: "#8c8c8c", on: "#d9480f", update: "#1c7ed6" };
export const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
/** A number as a tick label: 3 significant digits, or exponent notation when tiny or huge. */
export const fmt = (x) =>
  x === 0 ? "0" : Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(0) : Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString();

/** "Nice" tick values covering [lo, hi]. */
export function ticks(lo, hi, count = 5) {
  const step0 = (hi - lo) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= step0);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

const W = 460;
const PLOT_H = 190; // height of the plotting area
const M = { left: 60, right: 14, title: 28, bottom: 42 };
const CHAR = 6.7; // approximate width of a character at font-size 12
const TITLE_CHAR = 8.8; // … at font-size 14, bold (generous: a long title wraps rather than touch the edges)
const LEGEND_ROW = 17;

/** Swatches: a filled box, an outlined box, a line (solid or dashed). */
const swatch = {
  fill: (color, opacity = 0.5) => (x, y) => `<rect x="${x}" y="${y - 9}" width="11" height="11" fill="${color}" opacity="${opacity}"/>`,
  outline: (color) => (x, y) => `<rect x="${x + 0.75}" y="${y - 8.25}" width="9.5" height="9.5" fill="none" stroke="${color}" stroke-width="1.5"/>`,
  line: (color, dash) => (x, y) => `<line x1="${x - 2}" x2="${x + 13}" y1="${y - 3.5}" y2="${y - 3.5}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
};

/** Legend entries `{ label, draw }` laid out in rows from the left; returns `{ svg, rows }` below `y0`. */
function legend(entries, y0) {
  let [x, row] = [M.left, 0];
  let svg = "";
  for (const { label, draw } of entries) {
    const width = 18 + label.length * CHAR;
    if (x > M.left && x + width > W - M.right) [x, row] = [M.left, row + 1];
    const y = y0 + LEGEND_ROW * (row + 1);
    svg += `${draw(x, y)}<text x="${x + 16}" y="${y}" font-size="12">${escape(label)}</text>`;
    x += width + 14;
  }
  return { svg, rows: entries.length ? row + 1 : 0 };
}

/**
 * The frame of a chart: title, legend, axis labels. `plot(box)` draws the data inside
 * `box = { x0, x1, y0 (bottom), y1 (top) }` and returns SVG.
 */
function frame({ title, xLabel, yLabel, legendEntries = [], plot }) {
  // a title too long for one line breaks after its first ": " (setting: what is plotted)
  const split = title.indexOf(": ");
  const lines = title.length * TITLE_CHAR > W - 16 && split > 0 ? [title.slice(0, split + 1), title.slice(split + 2)] : [title];
  const titleHeight = M.title + 17 * (lines.length - 1);
  const key = legend(legendEntries, titleHeight - 4);
  const top = titleHeight + key.rows * LEGEND_ROW + 10;
  const H = top + PLOT_H + M.bottom;
  const box = { x0: M.left, x1: W - M.right, y0: top + PLOT_H, y1: top };
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escape(title)}">
<rect width="${W}" height="${H}" fill="#fff"/>
${lines.map((line, k) => `<text x="${W / 2}" y="${18 + 17 * k}" text-anchor="middle" font-size="14" font-weight="600">${escape(line)}</text>`).join("")}
${key.svg}
<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">${escape(xLabel)}</text>
<text transform="translate(13 ${top + PLOT_H / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(yLabel)}</text>
${plot(box)}
</svg>`;
}

/** Grid lines, tick labels and the two axes of `box`; `x`, `y` map data to the page. */
function axes(box, x, y, xTicks, yTicks, yLabelOf = fmt, xLabelOf = fmt) {
  let s = `<g font-size="11" fill="#444" stroke="none">`;
  for (const t of yTicks) s += `<line x1="${box.x0}" x2="${box.x1}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#eee"/><text x="${box.x0 - 4}" y="${(y(t) + 3).toFixed(1)}" text-anchor="end">${yLabelOf(t)}</text>`;
  for (const t of xTicks) s += `<text x="${x(t).toFixed(1)}" y="${box.y0 + 14}" text-anchor="middle">${xLabelOf(t)}</text>`;
  return `${s}<line x1="${box.x0}" x2="${box.x1}" y1="${box.y0}" y2="${box.y0}" stroke="#999"/><line x1="${box.x0}" x2="${box.x0}" y1="${box.y0}" y2="${box.y1}" stroke="#999"/></g>`;
}

/** [lo, hi] of finite `values` with 5% padding on each side. */
function padded(values) {
  const finite = values.filter(Number.isFinite);
  let [lo, hi] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  if (lo === hi) [lo, hi] = [lo - (Math.abs(lo) || 1), hi + (Math.abs(hi) || 1)];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * Ticks for a log10 axis over [lo, hi] (in log10 units): powers of ten (with 2× and 5× when few
 * fit), or evenly spaced values when the range is less than a decade.
 */
function logTicks(lo, hi) {
  if (hi - lo < 1) return ticks(10 ** lo, 10 ** hi, 4).filter((v) => v > 0).map(Math.log10);
  const at = (multipliers) => {
    const out = [];
    for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) for (const m of multipliers) out.push(Math.log10(m) + e);
    return out.filter((t) => t >= lo && t <= hi);
  };
  return [[1], [1, 2, 5]].map(at).find((t) => t.length >= 3) ?? at([1, 2, 5]);
}

const points = (xs, ys) => xs.map((px, i) => `${px.toFixed(1)},${ys[i].toFixed(1)}`).join(" ");

/**
 * A line chart of per-epoch curves: each series `{ label, color, mean, lo?, hi?, dash? }` is drawn
 * as its `mean` line over a band from `lo` to `hi` (e.g. min and max over seeds) when given.
 * Points are epochs 1 … n, or 0 … n − 1 with `fromZero`. `logY` plots on a log10 scale.
 */
export function lineChart({ title, xLabel, yLabel, series, logY = false, fromZero = false }) {
  const tf = logY ? (v) => Math.log10(Math.max(v, 1e-12)) : (v) => v;
  const [lo, hi] = padded(series.flatMap((s) => [...(s.lo ?? s.mean), ...(s.hi ?? s.mean)]).map(tf));
  const n = Math.max(...series.map((s) => s.mean.length));
  const first = fromZero ? 0 : 1;
  const entries = series.map((s) => ({ label: s.label, draw: swatch.line(s.color, s.dash) }));
  return frame({
    title, xLabel, yLabel, legendEntries: entries,
    plot: (box) => {
      const x = (i) => box.x0 + ((box.x1 - box.x0) * i) / Math.max(1, n - 1);
      const y = (v) => box.y0 - ((box.y0 - box.y1) * (v - lo)) / (hi - lo);
      const xTicks = ticks(first, n - 1 + first, 6).filter((t) => Number.isInteger(t) && t >= first && t <= n - 1 + first).map((t) => t - first);
      const yTicks = logY ? logTicks(lo, hi) : ticks(lo, hi);
      let body = axes(box, x, y, xTicks, yTicks, logY ? (t) => fmt(Number((10 ** t).toPrecision(3))) : fmt, (i) => String(i + first));
      for (const s of series) {
        const xs = s.mean.map((_, i) => x(i));
        if (s.lo && s.hi && s.lo.some((v, i) => v !== s.hi[i])) {
          const upper = points(xs, s.hi.map((v) => y(tf(v))));
          const lower = points([...xs].reverse(), [...s.lo].reverse().map((v) => y(tf(v))));
          body += `<polygon points="${upper} ${lower}" fill="${s.color}" opacity="0.18"/>`;
        }
        body += `<polyline points="${points(xs, s.mean.map((v) => y(tf(v))))}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`;
      }
      return body;
    },
  });
}

/**
 * Side-by-side panels sharing one y axis, one thin line per unit: `panels[k] = { label, color,
 * values }` with `values[e][u]` unit u's value after epoch e (e = 0: before training).
 */
export function unitLines({ title, xLabel, yLabel, panels }) {
  const [lo, hi] = padded(panels.flatMap((p) => p.values.flat()));
  const gap = 12;
  return frame({
    title, xLabel, yLabel,
    plot: (box) => {
      const width = (box.x1 - box.x0 - gap * (panels.length - 1)) / panels.length;
      const y = (v) => box.y0 - ((box.y0 - box.y1) * (v - lo)) / (hi - lo);
      let body = axes(box, () => 0, y, [], ticks(lo, hi));
      panels.forEach((panel, k) => {
        const left = box.x0 + k * (width + gap);
        const epochs = panel.values.length - 1;
        const x = (e) => left + 4 + ((width - 8) * e) / Math.max(1, epochs);
        const units = panel.values[0].length;
        body += `<text x="${(left + width / 2).toFixed(1)}" y="${box.y1 - 4}" text-anchor="middle" font-size="12" fill="${panel.color}" font-weight="600">${escape(panel.label)}</text>`;
        body += `<line x1="${left.toFixed(1)}" x2="${(left + width).toFixed(1)}" y1="${box.y0}" y2="${box.y0}" stroke="#999"/>`;
        body += `<g font-size="11" fill="#444">${[0, epochs].map((e) => `<text x="${x(e).toFixed(1)}" y="${box.y0 + 13}" text-anchor="middle">${e}</text>`).join("")}</g>`;
        const xs = panel.values.map((_, e) => x(e));
        for (let u = 0; u < units; u++) {
          body += `<polyline points="${points(xs, panel.values.map((row) => y(row[u])))}" fill="none" stroke="${panel.color}" stroke-width="1" opacity="0.55"/>`;
        }
      });
      return body;
    },
  });
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

/**
 * Histograms of each series' non-zero `values` on shared bins: the first series as filled bars,
 * the others as outlines (so no colour comes from overlapping fills). Exact zeros (dead ReLU
 * units, blank pixels) would be one spike that flattens everything else: they are counted in the
 * legend instead. The bins cover ± the 99.5th percentile of |value| (the rest land in the edge
 * bins). The tallest bar reaches 85% of the plot's height.
 */
export function histogram({ title, xLabel, series, bins }) {
  const nonZero = series.map((s) => Array.from(s.values).filter((v) => v !== 0 && Number.isFinite(v)));
  const zeros = series.map((s) => Array.from(s.values).filter((v) => v === 0).length);
  const all = nonZero.flat();
  bins ??= Math.min(60, Math.max(10, Math.round(2 * Math.sqrt(all.length / series.length))));
  // the range: the largest |value| but for the 0.5% largest (those go to the edge bins), so that a few outliers do not squeeze the rest
  const magnitudes = all.map(Math.abs).sort((a, b) => a - b);
  const extent = magnitudes.length ? magnitudes[Math.min(magnitudes.length - 1, Math.floor(0.995 * magnitudes.length))] || magnitudes[magnitudes.length - 1] : 1;
  const clipped = magnitudes.length && magnitudes[magnitudes.length - 1] > extent;
  const [lo, hi] = [-extent, extent];
  const counts = nonZero.map((values) => binCounts(values, lo, hi, bins));
  const top = Math.max(1, ...counts.flat()) / 0.85;
  const entries = series.map((s, k) => ({
    label: `${s.label}${zeros[k] ? ` (+${zeros[k]} exact zeros, not drawn)` : ""}`,
    draw: k === 0 ? swatch.fill(s.color) : swatch.outline(s.color),
  }));
  return frame({
    title, xLabel: clipped ? `${xLabel}; |value| > ${fmt(Number(extent.toPrecision(2)))} in the edge bins` : xLabel, yLabel: "count", legendEntries: entries,
    plot: (box) => {
      const x = (v) => box.x0 + ((box.x1 - box.x0) * (v - lo)) / (hi - lo);
      const y = (c) => box.y0 - ((box.y0 - box.y1) * c) / top;
      const edge = (b) => x(lo + ((hi - lo) * b) / bins);
      let body = axes(box, x, y, ticks(lo, hi, 4), ticks(0, top, 4).filter((t) => Number.isInteger(t)), (t) => t.toFixed(0));
      counts.forEach((bars, k) => {
        if (k === 0) {
          bars.forEach((c, b) => {
            if (c > 0) body += `<rect class="bar" x="${edge(b).toFixed(1)}" y="${y(c).toFixed(1)}" width="${Math.max(0.5, edge(b + 1) - edge(b) - 0.5).toFixed(1)}" height="${(y(0) - y(c)).toFixed(1)}" fill="${series[k].color}" opacity="0.5"/>`;
          });
        } else {
          // the outline of the bars: a step path along their tops
          let d = `M${edge(0).toFixed(1)},${y(0).toFixed(1)}`;
          bars.forEach((c, b) => (d += ` V${y(c).toFixed(1)} H${edge(b + 1).toFixed(1)}`));
          body += `<path class="outline" d="${d} V${y(0).toFixed(1)}" fill="none" stroke="${series[k].color}" stroke-width="1.5"/>`;
        }
      });
      return body;
    },
  });
}
