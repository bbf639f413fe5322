// report.html: a self-contained page (inline SVG, no scripts) telling what a digits run showed:
// the results grouped by network, what GC does to each unit's weights and gradients, the curves,
// and the gradients at initialization before and after GC. It fits any screen width.
import { COLORS, escape, histogram, lineChart, unitLines } from "./charts.js";
import { byNetwork, layerStats, pairedNotes, RESULT_COLUMNS, resultCells, TIME_FOOTNOTE } from "./tables.js";

export { binCounts, histogram, lineChart } from "./charts.js";

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

const sci = (x) => x.toExponential(1);
const GC_NAMES = { false: "no GC", gradient: 'GC "gradient"', update: 'GC "update"' };
const GC_COLORS = { false: COLORS.off, gradient: COLORS.on, update: COLORS.update };

/** How far the units' weight means moved from where they started: mean over units of |m(last) − m(0)|. */
export function meanDrift(weightMeans) {
  const [first, last] = [weightMeans[0], weightMeans[weightMeans.length - 1]];
  return first.reduce((sum, m, u) => sum + Math.abs(last[u] - m), 0) / first.length;
}

const figure = (svg, caption) => `<figure>${svg}<figcaption>${caption}</figcaption></figure>`;

/** The per-unit weight means of one setting's tracked layer, without GC and with each GC mode. */
function weightFigure(track) {
  const modes = Object.keys(track.histories);
  const svg = unitLines({
    title: `${track.label}: ${track.layer} per-unit weight means`,
    xLabel: "epoch",
    yLabel: "mean of a unit's weights",
    panels: modes.map((gc) => ({ label: GC_NAMES[gc], color: GC_COLORS[gc], values: track.histories[gc].weightMeans })),
  });
  const drifts = modes.map((gc) => `${GC_NAMES[gc]} ${sci(meanDrift(track.histories[gc].weightMeans))}`).join(", ");
  return figure(svg, `One line per output unit of ${escape(track.layer)} (seed 1): look for flat lines, a unit whose weights keep their mean; ` +
    `${escape(track.flatNote)} Average move of a unit's mean over the run: ${escape(drifts)}.`);
}

/** One setting's per-unit gradient mean against per-unit gradient spread, per epoch. */
function gradientFigure(track) {
  const runs = [false, "gradient"].filter((gc) => track.histories[gc]);
  const series = runs.flatMap((gc) => [
    { label: `${GC_NAMES[gc]}: mean |unit mean|`, color: GC_COLORS[gc], mean: track.histories[gc].gradientMean },
    { label: `${GC_NAMES[gc]}: mean unit std`, color: GC_COLORS[gc], mean: track.histories[gc].gradientStd, dash: "5 3" },
  ]);
  const svg = lineChart({ title: `${track.label}: ${track.layer} gradient, per unit`, xLabel: "epoch", yLabel: "mean over units (log scale)", series, logY: true });
  const { gradientMean, gradientStd } = track.histories[false] ?? track.histories[runs[0]];
  const ratio = (e) => (gradientMean[e] / gradientStd[e]).toFixed(2);
  return figure(svg, `Solid: |mean| of each unit's gradient, the part GC removes; dashed: the spread of the unit's gradient around that mean (raw gradients, seed 1, averaged over each epoch's steps). ` +
    `Look at the gap: the closer solid is to dashed, the harder each step pushes all of a unit's weights the same way; ` +
    `without GC, |mean| / spread is ${ratio(0)} in epoch 1 and ${ratio(gradientMean.length - 1)} in epoch ${gradientMean.length}.`);
}

/** The results, grouped by network: an HTML table whose cells carry their column name for narrow screens. */
function resultsTable(results) {
  const head = `<tr>${RESULT_COLUMNS.map((c) => `<th scope="col">${escape(c)}</th>`).join("")}</tr>`;
  const body = byNetwork(results)
    .map(({ network, settings }) => {
      const rows = settings.map((s) => {
        const cells = resultCells(s);
        cells[0] = s.label.replace(/^(TF\.js MLP|MLP|ConvNet) \+ /, "");
        return `<tr class="${s.gc ? "on" : "off"}">${cells.map((c, k) => `<td data-label="${escape(RESULT_COLUMNS[k])}">${escape(c)}</td>`).join("")}</tr>`;
      });
      return `<tbody><tr class="group"><th colspan="${RESULT_COLUMNS.length}" scope="rowgroup">${escape(network)}</th></tr>${rows.join("")}</tbody>`;
    })
    .join("");
  return `<div class="table"><table class="results"><thead>${head}</thead>${body}</table></div>`;
}

/** The per-layer gradient statistics at initialization: before and after GC on two lines of a cell. */
function layerTable(layers) {
  const columns = ["layer", "shape", "units", "mean |unit mean|", "mean unit std", "min … max"];
  const pair = ([before, after]) => `<span>${escape(before)}<br>${after === undefined ? "<small>rank 1: GC leaves it</small>" : `→ ${escape(after)}`}</span>`;
  const rows = layerStats(layers).map((l) => {
    const cells = [escape(l.name), escape(l.shape), String(l.units), pair(l.meanAbsMean), pair(l.meanStd), pair(l.range)];
    return `<tr>${cells.map((c, k) => `<td data-label="${escape(columns[k])}">${c}</td>`).join("")}</tr>`;
  });
  return `<div class="table"><table class="layers"><thead><tr>${columns.map((c) => `<th scope="col">${escape(c)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

export const PAGE_STYLE = `*{box-sizing:border-box}
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;padding:16px;max-width:1000px;color:#222}
h1{font-size:1.6em;line-height:1.2}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:16px;margin:12px 0}
figure{margin:0;min-width:0}svg{display:block;width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:13px;color:#444;margin-top:6px}
.table{max-width:100%}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:4px 8px;text-align:right;vertical-align:top;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left}
tr.group th{text-align:left;background:#f3f3f3;font-size:14px;padding-top:8px}
table.settings td,table.settings th{text-align:left}
tr.on td:nth-child(2){color:${COLORS.on};font-weight:600}
ul.notes{font-size:14px}small{color:#666}
@media (max-width:700px){
  thead{display:none}
  tr{display:block;border-bottom:1px solid #ccc;padding:4px 0}
  td,table.settings td{display:flex;justify-content:space-between;gap:12px;border:0;padding:2px 4px;text-align:right}
  td::before{content:attr(data-label);color:#666;text-align:left;flex:none}
  tr.group th{display:block}
}`;

/**
 * The whole page.
 * - `intro`: sentences (text) before the settings; `settings`: `{ network, optimizer, gc }` rows as a person reads them;
 * - `results`: `{ optimizer, label, network, gc, runs: [{ curve: [{ trainLoss, heldOutAccuracy, heldOutLoss }], epochTimes }] }[]`;
 * - `tracks`: per package setting `{ label, layer, flatNote, histories: { false, gradient, update } }` from `Trainer.history`;
 * - `layers`: per layer `{ name, shape, before, after }` (gradientStats at initialization);
 * - `gradients`: `{ name, shape, before, after }[]` for the histograms; `agreement`: lines of text; `footer`: text.
 */
export function renderReport({ title, intro, settings, results, tracks = [], layers, gradients, agreement = "", footer = "" }) {
  const curves = [];
  for (const { settings: group } of byNetwork(results)) {
    for (const optimizer of [...new Set(group.map((r) => r.optimizer))]) {
      const pair = group.filter((r) => r.optimizer === optimizer);
      const label = pair[0].label;
      const series = (metric) =>
        pair.map((r) => ({ label: r.gc ? "with GC" : "without GC", color: r.gc ? COLORS.on : COLORS.off, ...band(r.runs.map((run) => run.curve.map((e) => e[metric]))) }));
      curves.push(figure(lineChart({ title: `${label}: training loss`, xLabel: "epoch", yLabel: "cross-entropy (log scale)", series: series("trainLoss"), logY: true }),
        "Mean over seeds, band from the lowest to the highest seed: lower is better."));
      curves.push(figure(lineChart({ title: `${label}: held-out accuracy`, xLabel: "epoch", yLabel: "accuracy", series: series("heldOutAccuracy") }),
        "The share of the held-out images classified right: higher is better."));
    }
  }
  const hist = gradients.map((gradient) =>
    figure(
      histogram({
        title: `${gradient.name} gradient [${gradient.shape.join(", ")}] at initialization`,
        xLabel: "gradient value",
        series: [
          { label: "before GC", color: COLORS.off, values: gradient.before },
          { label: "after GC", color: COLORS.on, values: gradient.after },
        ],
      }),
      "Grey bars: the gradient as computed; orange outline: after GC, which shifts each unit's values by that unit's mean. Look for the outline balanced around 0 (every unit's mean is 0 after GC) where the bars lean to one side; exact zeros (blank pixels, inactive units) are counted in the legend.",
    ),
  );
  const notes = pairedNotes(results);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style></head><body>
<h1>${escape(title)}</h1>
<p>${escape(intro)}</p>
<div class="table"><table class="settings"><thead><tr><th scope="col">network</th><th scope="col">optimizer</th><th scope="col">GC</th></tr></thead><tbody>
${settings.map((s) => `<tr><td data-label="network">${escape(s.network)}</td><td data-label="optimizer">${escape(s.optimizer)}</td><td data-label="GC">${escape(s.gc)}</td></tr>`).join("\n")}
</tbody></table></div>
<h2>Results</h2>
${resultsTable(results)}
<p><small>${escape(TIME_FOOTNOTE)}</small></p>
<ul class="notes">${notes.map((n) => `<li><b>${escape(n.label)}</b>, GC on − off, paired by seed: ${escape(n.accuracy)}; ${escape(n.loss)}.</li>`).join("\n")}
${agreement.split("\n").filter(Boolean).map((line) => `<li>${escape(line)}</li>`).join("\n")}</ul>
${tracks.length ? `<h2>What GC does to a unit's weights</h2>
<p>GC removes the mean of each output unit's gradient. A gradient whose mean is not zero pushes every weight of the unit the same way; GC takes that push out, so the unit's weights stay balanced around the mean they started with.</p>
<div class="charts">${tracks.map(weightFigure).join("\n")}</div>
<h2>Gradient mean against gradient spread, over training</h2>
<div class="charts">${tracks.map(gradientFigure).join("\n")}</div>` : ""}
<h2>Curves</h2>
<div class="charts">${curves.join("\n")}</div>
<h2>Gradients at initialization, before and after GC</h2>
<div class="charts">${hist.join("\n")}</div>
${layerTable(layers)}
<p><small>${escape(footer)}</small></p>
</body></html>
`;
}
