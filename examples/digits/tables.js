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

/** The results table (mean ± std over seeds) and, per optimizer, the paired GC − no-GC differences. */
export function summaryTable(settings) {
  const rows = [["setting", "GC", "final train loss", "held-out acc %", "held-out loss", "ms/step*", "opt µs/step*"]];
  for (const s of settings) {
    const final = s.runs.map((r) => r.curve[r.curve.length - 1]);
    rows.push([
      s.label,
      s.gc ? "on" : "off",
      pm(final.map((f) => f.trainLoss), 4),
      pm(final.map((f) => f.heldOutAccuracy), 2, 100),
      pm(final.map((f) => f.heldOutLoss), 4),
      median(s.runs.flatMap((r) => r.epochTimes.map((t) => t.stepMs))).toFixed(3),
      median(s.runs.flatMap((r) => r.epochTimes.map((t) => 1000 * t.optimizerMs))).toFixed(1),
    ]);
  }
  const notes = [];
  for (const label of [...new Set(settings.map((s) => s.label))]) {
    const [off, on] = [false, "gradient"].map((gc) => settings.find((s) => s.label === label && s.gc === gc));
    const final = (s) => s.runs.map((r) => r.curve[r.curve.length - 1]);
    const [a, b] = [final(off), final(on)];
    const accuracy = b.map((f, k) => 100 * (f.heldOutAccuracy - a[k].heldOutAccuracy));
    const loss = b.map((f, k) => f.trainLoss / a[k].trainLoss);
    const wins = accuracy.filter((d) => d > 0).length;
    const ties = accuracy.filter((d) => d === 0).length;
    notes.push(`${label}, GC on − off, paired by seed:\n` +
      `  held-out accuracy ${pm(accuracy, 2)} points (GC higher in ${wins}, equal in ${ties}, lower in ${accuracy.length - wins - ties} of ${accuracy.length} seeds)\n` +
      `  final train loss ratio on/off ${pm(loss, 3)}`);
  }
  const footnote = "* median over epochs and seeds of the mean time per step (ms/step: forward, backward and optimizer; opt: the optimizer's step alone)";
  return `${formatTable(rows)}\n${footnote}\n\n${notes.join("\n")}`;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const meanAbs = (xs) => mean(Array.from(xs, Math.abs));
const sci = (x) => x.toExponential(2);
const range = (s) => `${sci(Math.min(...s.min))} … ${sci(Math.max(...s.max))}`;

/** Per layer: what GC does to the per-output-unit statistics of the gradient. */
export function statsTable(layers) {
  const rows = [["layer", "shape", "units", "mean |unit mean|", "mean unit std", "min … max"]];
  for (const { name, shape, before, after } of layers) {
    const changed = shape.length > 1;
    const arrow = (f) => (changed ? `${sci(f(before))} → ${sci(f(after))}` : `${sci(f(before))} (rank 1: unchanged)`);
    rows.push([
      name,
      `[${shape.join(", ")}]`,
      String(before.units),
      arrow((s) => meanAbs(s.mean)),
      arrow((s) => mean(s.std)),
      changed ? `${range(before)} → ${range(after)}` : range(before),
    ]);
  }
  return formatTable(rows);
}
