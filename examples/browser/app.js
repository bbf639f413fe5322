// The browser demo: the digits job's MLP and optimizers (examples/digits/), and a small conv net
// in TF.js (tf.layers) trained with this package's TF.js optimizer, an epoch at a time between
// repaints, with a live loss curve and a histogram of the latest gradient.
import { centralize, init } from "gradient-centralization";
import { parseDigits, splitDigits } from "../digits/data.js";
import { SETTINGS } from "../digits/settings.js";
import { COLORS, histogram, lineChart } from "../digits/charts.js";
import { Trainer } from "../digits/train.js";

const EPOCHS = Number(new URLSearchParams(location.search).get("epochs") ?? 30);
const $ = (id) => document.getElementById(id);

/** The TF.js setting (loaded on first use: TF.js is ~3 MB of JavaScript the other settings do not need). */
const TFJS_SETTING = {
  key: "tfjs-convnet",
  label: "TF.js ConvNet (tf.layers) + train.adam",
  backend: "wasm",
  wasmPaths: "/node_modules/@tensorflow/tfjs-backend-wasm/dist/",
};
let tfjsModule; // ./tfjs-model.js once loaded
const isTfjs = (key) => key === TFJS_SETTING.key;
const labelOf = (key) => (isTfjs(key) ? TFJS_SETTING.label : SETTINGS[key].label);

/**
 * What the page has done so far; the browser test reads it. `tfjsBackend`, `tfjsEngine`: the TF.js
 * backend the TF.js setting runs on and the engine train.adam steps with ("kernels" or "tfjs").
 */
const demo = { status: "loading", backend: undefined, tfjsBackend: undefined, tfjsEngine: undefined, optimizer: undefined, gc: undefined, curves: { on: [], off: [] }, initial: {}, error: undefined };
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
      title: `${labelOf(demo.optimizer)}: training loss`, xLabel: "epoch", yLabel: "cross-entropy (log scale)", series, logY: true,
    });
  }
}

/** The captured gradient of the latest batch; with GC on, also what GC made of it. */
function drawHistogram(trainer, gc) {
  const { name, shape } = trainer.capture;
  // The package's trainer keeps the raw gradient (out-first); the TF.js one keeps it before and after GC.
  const { before, after } = trainer.captured instanceof Float32Array
    ? { before: trainer.captured, after: gc ? centralize(trainer.captured.slice(), shape) : undefined }
    : trainer.captured;
  const series = gc
    ? [
        { label: "before GC", color: COLORS.off, values: before },
        { label: "after GC", color: COLORS.on, values: after },
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
  const gc = demo.gc ? "gradient" : false;
  let trainer, backend;
  if (isTfjs(demo.optimizer)) {
    tfjsModule ??= await import("./tfjs-model.js");
    demo.tfjsBackend = await tfjsModule.useBackend(TFJS_SETTING.backend, TFJS_SETTING.wasmPaths);
    if (token !== run) return;
    trainer = new tfjsModule.TfjsTrainer(split, { gc, seed: 1 });
    backend = `TF.js ${demo.tfjsBackend} backend`;
  } else {
    const capture = SETTINGS[demo.optimizer].network === "cnn" ? "conv.weight" : "dense1.weight";
    trainer = new Trainer(split, { optimizer: demo.optimizer, gc, seed: 1, capture });
    backend = demo.backend;
  }
  try {
    demo.initial[key] = await trainer.evaluate();
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      await trainer.epoch();
      if (token !== run) return; // restarted while the epoch ran (the TF.js steps are asynchronous)
      const metrics = trainer.evaluate();
      if (isTfjs(demo.optimizer)) {
        demo.tfjsEngine = trainer.engine;
        backend = `TF.js ${demo.tfjsBackend} backend, train.adam on ${demo.tfjsEngine === "kernels" ? `this package's kernels (${demo.backend})` : "TF.js ops"}`;
      }
      demo.curves[key].push(metrics);
      drawLoss();
      drawHistogram(trainer, key === "on");
      $("status").textContent = `epoch ${epoch}/${EPOCHS} · train loss ${metrics.trainLoss.toFixed(4)} · ` +
        `held-out accuracy ${(100 * metrics.heldOutAccuracy).toFixed(1)}% · ${(trainer.stepMs / trainer.steps).toFixed(2)} ms/step · ${backend}`;
      await new Promise((resolve) => setTimeout(resolve, 0)); // let the page repaint and the controls respond
      if (token !== run) return;
    }
    demo.status = "done";
  } finally {
    trainer.dispose();
  }
}

/** The setting menu: every setting of examples/digits/settings.js, MLP + Adam first selected, then the TF.js conv net. */
function fillSettings() {
  for (const [key, { label }] of Object.entries(SETTINGS)) $("optimizer").append(new Option(label, key, key === "adam", key === "adam"));
  $("optimizer").append(new Option(TFJS_SETTING.label, TFJS_SETTING.key));
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
