// Plain-text tables of the digits job: results per setting, gradient statistics per layer.

/** Mean and sample standard deviation (NaN for fewer than two values). */
export function meanStd(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, x) => a + (x - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

/** The median (of per-epoch mean step times: robust to pauses and other processes). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function pm(values, digits, scale = 1) {
  const { mean, std } = meanStd(values.map((v) => v * scale));
  return `${mean.toFixed(digits)} ± ${Number.isFinite(std) ? std.toFixed(digits) : "n/a"}`;
}

/** Rows of cells as aligned text: the first row is the header. */
export function formatTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r) => r.map((cell, c) => (c < 2 ? String(cell).padEnd(widths[c]) : String(cell).padStart(widths[c]))).join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

/** The settings grouped by network (in the order networks first appear), each group in its order. */
export function byNetwork(settings) {
  const groups = new Map();
  for (const s of settings) groups.set(s.network, [...(groups.get(s.network) ?? []), s]);
  return [...groups.entries()].map(([network, members]) => ({ network, settings: members }));
}

export const RESULT_COLUMNS = ["setting", "GC", "final train loss", "held-out acc %", "held-out loss", "ms/step*", "opt µs/step*"];
export const TIME_FOOTNOTE = "* median over epochs and seeds of the mean time per step (ms/step: forward, backward and optimizer; opt: the optimizer's step alone)";

/** One setting's cells under RESULT_COLUMNS: mean ± std over seeds, median times. */
export function resultCells(s) {
  const final = s.runs.map((r) => r.curve[r.curve.length - 1]);
  return [
    s.label,
    s.gc ? "on" : "off",
    pm(final.map((f) => f.trainLoss), 4),
    pm(final.map((f) => f.heldOutAccuracy), 2, 100),
    pm(final.map((f) => f.heldOutLoss), 4),
    median(s.runs.flatMap((r) => r.epochTimes.map((t) => t.stepMs))).toFixed(3),
    median(s.runs.flatMap((r) => r.epochTimes.map((t) => 1000 * t.optimizerMs))).toFixed(1),
  ];
}

/** Per setting label, the paired GC − no-GC differences over seeds, as text lines. */
export function pairedNotes(settings) {
  const notes = [];
  for (const label of [...new Set(byNetwork(settings).flatMap((g) => g.settings.map((s) => s.label)))]) {
    const [off, on] = [false, "gradient"].map((gc) => settings.find((s) => s.label === label && s.gc === gc));
    if (!off || !on) continue;
    const final = (s) => s.runs.map((r) => r.curve[r.curve.length - 1]);
    const [a, b] = [final(off), final(on)];
    const accuracy = b.map((f, k) => 100 * (f.heldOutAccuracy - a[k].heldOutAccuracy));
    const loss = b.map((f, k) => f.trainLoss / a[k].trainLoss);
    const wins = accuracy.filter((d) => d > 0).length;
    const ties = accuracy.filter((d) => d === 0).length;
    notes.push({
      label,
      accuracy: `held-out accuracy ${pm(accuracy, 2)} points (GC higher in ${wins}, equal in ${ties}, lower in ${accuracy.length - wins - ties} of ${accuracy.length} seeds)`,
      loss: `final train loss ratio on/off ${pm(loss, 3)}`,
    });
  }
  return notes;
}

/** The results table (mean ± std over seeds), grouped by network, and the paired GC − no-GC differences. */
export function summaryTable(settings) {
  const groups = byNetwork(settings);
  const rows = [RESULT_COLUMNS, ...groups.flatMap((g) => g.settings.map(resultCells))];
  const lines = formatTable(rows).split("\n");
  // a blank line between networks
  const out = lines.slice(0, 2);
  let at = 2;
  for (const [k, g] of groups.entries()) {
    if (k > 0) out.push("");
    out.push(...lines.slice(at, at + g.settings.length));
    at += g.settings.length;
  }
  const notes = pairedNotes(settings).map((n) => `${n.label}, GC on − off, paired by seed:\n  ${n.accuracy}\n  ${n.loss}`);
  return `${out.join("\n")}\n${TIME_FOOTNOTE}\n\n${notes.join("\n")}`;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanAbs = (xs) => mean(Array.from(xs, Math.abs));
const sci = (x) => x.toExponential(2);
const range = (s) => `${sci(Math.min(...s.min))} … ${sci(Math.max(...s.max))}`;

/**
 * Per layer, what GC does to the per-output-unit statistics of its gradient:
 * `{ name, shape, units, changed, meanAbsMean: [before, after], meanStd: [before, after], range: [before, after] }`
 * (after is undefined for rank-1 layers, which GC leaves unchanged).
 */
export function layerStats(layers) {
  return layers.map(({ name, shape, before, after }) => {
    const changed = shape.length > 1;
    const pair = (f) => [f(before), changed ? f(after) : undefined];
    return {
      name,
      shape: `[${shape.join(", ")}]`,
      units: before.units,
      changed,
      meanAbsMean: pair((s) => sci(meanAbs(s.mean))),
      meanStd: pair((s) => sci(mean(s.std))),
      range: pair(range),
    };
  });
}

/** Per layer: what GC does to the per-output-unit statistics of the gradient, as text. */
export function statsTable(layers) {
  const rows = [["layer", "shape", "units", "mean |unit mean|", "mean unit std", "min … max"]];
  const arrow = ([before, after]) => (after === undefined ? `${before} (rank 1: unchanged)` : `${before} → ${after}`);
  for (const l of layerStats(layers)) rows.push([l.name, l.shape, String(l.units), arrow(l.meanAbsMean), arrow(l.meanStd), l.changed ? arrow(l.range) : l.range[0]]);
  return formatTable(rows);
}
