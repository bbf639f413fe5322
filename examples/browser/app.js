// The browser demo: the digits job's MLP and optimizers (examples/digits/), trained an epoch at a
// time between repaints, with a live loss curve and a histogram of the latest gradient.
import { centralize, init } from "gradient-centralization";
import { parseDigits, splitDigits } from "../digits/data.js";
import { SETTINGS } from "../digits/settings.js";
import { COLORS, histogram, lineChart } from "../digits/charts.js";
import { Trainer } from "../digits/train.js";

const EPOCHS = Number(new URLSearchParams(location.search).get("epochs") ?? 30);
const $ = (id) => document.getElementById(id);

/** What the page has done so far; the browser test reads it. */
const demo = { status: "loading", backend: undefined, optimizer: undefined, gc: undefined, curves: { on: [], off: [] }, error: undefined };
window.gcDemo = demo;

async function loadDigits() {
  const response = await fetch(new URL("../data/digits.csv.gz", import.meta.url));
  if (!response.ok) throw new Error(`digits.csv.gz: HTTP ${response.status}`);
  // Read the whole file first, then gunzip it: the network request is complete before decoding starts.
  const gzipped = new Blob([await response.arrayBuffer()]);
  const text = await new Response(gzipped.stream().pipeThrough(new DecompressionStream("gzip"))).text();
  return splitDigits(parseDigits(text));
}

function drawLoss() {
  const series = ["off", "on"]
    .filter((key) => demo.curves[key].length > 0)
    .map((key) => {
      const losses = demo.curves[key].map((e) => e.trainLoss);
      return { label: key === "on" ? "with GC" : "without GC", color: COLORS[key], mean: losses, lo: losses, hi: losses };
    });
  if (series.length) {
    $("loss-chart").innerHTML = lineChart({
      title: `${SETTINGS[demo.optimizer].label}: training loss`, xLabel: "epoch", yLabel: "cross-entropy (log scale)", series, logY: true,
    });
  }
}

/** The captured gradient of the latest batch; with GC on, also what GC made of it. */
function drawHistogram(trainer, gc) {
  const { name, shape } = trainer.capture;
  const before = trainer.captured;
  const series = gc
    ? [
        { label: "before GC", color: COLORS.off, values: before },
        { label: "after GC", color: COLORS.on, values: centralize(before.slice(), shape) },
      ]
    : [{ label: "gradient (GC off)", color: COLORS.off, values: before }];
  $("histogram").innerHTML = histogram({ title: `${name} gradient, latest batch`, xLabel: "gradient value", series });
}

let run = 0;

/** Trains from scratch with the current controls until EPOCHS or until restarted. */
async function train(split) {
  const token = ++run;
  demo.optimizer = $("optimizer").value;
  demo.gc = $("gc").checked;
  const key = demo.gc ? "on" : "off";
  demo.curves[key] = [];
  demo.status = "training";
  const capture = SETTINGS[demo.optimizer].network === "cnn" ? "conv.weight" : "dense1.weight";
  const trainer = new Trainer(split, { optimizer: demo.optimizer, gc: demo.gc ? "gradient" : false, seed: 1, capture });
  try {
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      trainer.epoch();
      const metrics = trainer.evaluate();
      demo.curves[key].push(metrics);
      drawLoss();
      drawHistogram(trainer, key === "on");
      $("status").textContent = `epoch ${epoch}/${EPOCHS} · train loss ${metrics.trainLoss.toFixed(4)} · ` +
        `held-out accuracy ${(100 * metrics.heldOutAccuracy).toFixed(1)}% · ${(trainer.stepMs / trainer.steps).toFixed(2)} ms/step · ${demo.backend}`;
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page repaint and the controls respond
      if (token !== run) return;
    }
    demo.status = "done";
  } finally {
    trainer.dispose();
  }
}

/** The setting menu: every setting of examples/digits/settings.js, MLP + Adam first selected. */
function fillSettings() {
  for (const [key, { label }] of Object.entries(SETTINGS)) $("optimizer").append(new Option(label, key, key === "adam", key === "adam"));
}

async function main() {
  fillSettings();
  demo.backend = await init();
  const split = await loadDigits();
  const restart = () => train(split).catch(fail);
  $("gc").addEventListener("change", restart);
  $("optimizer").addEventListener("change", () => {
    demo.curves = { on: [], off: [] };
    restart();
  });
  $("restart").addEventListener("click", restart);
  restart();
}

function fail(error) {
  demo.status = "error";
  demo.error = String(error?.stack ?? error);
  $("status").textContent = `error: ${error}`;
  throw error;
}

main().catch(fail);
