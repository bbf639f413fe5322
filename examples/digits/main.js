#!/usr/bin/env node
// The main job (npm start): small networks on the 1797 8×8 digits, trained with and without
// Gradient Centralization: an MLP with this package's SGD (momentum) and Adam, a ConvNet with its
// Adam, and the MLP in TF.js with Adam wrapped by the adapter, over a few seeds. Prints the results as they come out, per-layer gradient statistics
// and a summary table, and writes report.html.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { centralize, gradientStats, init } from "gradient-centralization";
import { parseDigits, splitDigits } from "./data.js";
import { progressBar } from "./progress.js";
import { renderReport } from "./report.js";
import { statsTable, summaryTable } from "./tables.js";
import { NETWORKS, SETTINGS } from "./settings.js";
import { TRAINING, Trainer } from "./train.js";

const TFJS_KINDS = ["tfjs-adam"];
const KINDS = [...Object.keys(SETTINGS), ...TFJS_KINDS];
const USAGE = `usage: node examples/digits/main.js [--epochs N] [--seeds N] [--optimizer all|${KINDS.join("|")}[,…]] [--out report.html]`;

let tfjs; // examples/digits/tfjs-trainer.js, loaded only when a TF.js setting is selected

const isPackage = (kind) => kind in SETTINGS;
const labelOf = (kind) => (isPackage(kind) ? SETTINGS[kind].label : tfjs.TFJS_OPTIMIZERS[kind].label);
const networkOf = (kind) => (isPackage(kind) ? SETTINGS[kind].network : "mlp");
const describe = (kind) =>
  isPackage(kind)
    ? `${SETTINGS[kind].label}: ${NETWORKS[SETTINGS[kind].network].description}, this package's ${SETTINGS[kind].Optimizer.name} ${JSON.stringify(SETTINGS[kind].options)}`
    : `${labelOf(kind)}: ${NETWORKS.mlp.description}, ${tfjs.TFJS_OPTIMIZERS[kind].description}`;
const makeTrainer = (split, options) => (isPackage(options.optimizer) ? new Trainer(split, options) : new tfjs.TfjsTrainer(split, options));

function options() {
  const { values } = parseArgs({
    options: {
      epochs: { type: "string", default: "20" },
      seeds: { type: "string", default: "3" },
      optimizer: { type: "string", default: "all" },
      out: { type: "string", default: "report.html" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${values[name]}\n${USAGE}`);
    return n;
  };
  const optimizers = values.optimizer === "all" ? KINDS : values.optimizer.split(",");
  if (!optimizers.every((o) => KINDS.includes(o))) throw new RangeError(`--optimizer must be all or a list of ${KINDS.join(", ")}; got ${values.optimizer}\n${USAGE}`);
  return { epochs: positive("epochs"), seeds: positive("seeds"), optimizers, out: values.out };
}

/** Per-layer statistics of each network's full-batch gradient at initialization (seed 1), before and after GC. */
function gradientStatistics(split, networks) {
  const { train } = split;
  return networks.flatMap((network) => {
    const model = NETWORKS[network].create(1);
    model.lossAndGradients(train.images, train.labels, train.count);
    const layers = model.params.map(({ name, shape, grad }) => {
      const values = grad.data.slice();
      const before = gradientStats(values, shape);
      const centralized = centralize(values.slice(), shape);
      return { name: `${network} ${name}`, shape, values, centralized, before, after: gradientStats(centralized, shape) };
    });
    model.dispose();
    return layers;
  });
}

/**
 * The TF.js runs start from the same weights and see the same batches as this package's Adam
 * runs: how far apart their final training losses ended (a cross-check of both implementations).
 */
function tfjsAgreement(settings) {
  const lines = [];
  for (const gc of [false, "gradient"]) {
    const own = settings.find((s) => s.optimizer === "adam" && s.gc === gc);
    const tfjsRuns = settings.find((s) => s.optimizer === "tfjs-adam" && s.gc === gc);
    if (!own || !tfjsRuns) continue;
    const final = (run) => run.curve[run.curve.length - 1].trainLoss;
    const diffs = own.runs.map((run, k) => Math.abs(final(run) - final(tfjsRuns.runs[k])) / final(run));
    lines.push(`TF.js Adam + adapter vs this package's Adam, GC ${gc ? "on" : "off"}: final train losses differ by at most ${(100 * Math.max(...diffs)).toFixed(3)}% (same initial weights and batches)`);
  }
  return lines.join("\n");
}

async function main() {
  const { epochs, seeds, optimizers, out } = options();
  const build = await init();
  const data = parseDigits(gunzipSync(readFileSync(new URL("../data/digits.csv.gz", import.meta.url))).toString("utf8"));
  const split = splitDigits(data);
  console.log(`digits: ${data.count} images, ${split.train.count} train / ${split.heldOut.count} held out (fixed split); ` +
    `batch ${TRAINING.batch}, ${epochs} epochs, seeds 1..${seeds}; kernels: ${build}`);
  if (!optimizers.every(isPackage)) {
    tfjs = await import("./tfjs-trainer.js");
    await tfjs.initTfjs();
  }
  for (const o of optimizers) console.log(`  ${describe(o)}`);

  const layers = gradientStatistics(split, [...new Set(optimizers.map(networkOf))]);
  const statsText = statsTable(layers);
  console.log(`\nGradient statistics per layer (full training set, seed 1, at initialization), before → after GC:\n${statsText}\n`);

  const settings = optimizers.flatMap((optimizer) => [false, "gradient"].map((gc) => ({ optimizer, gc, label: labelOf(optimizer), runs: [] })));
  // One unmeasured epoch per setting first, so the JIT warm-up does not land in the first setting's time per step.
  let stepsPerEpoch = 0;
  for (const { optimizer, gc } of settings) {
    const warmUp = makeTrainer(split, { optimizer, gc, seed: 0 });
    warmUp.epoch();
    stepsPerEpoch = warmUp.stepsPerEpoch;
    warmUp.dispose();
  }
  const bar = progressBar(settings.length * seeds * epochs * stepsPerEpoch);
  for (const setting of settings) {
    for (let seed = 1; seed <= seeds; seed++) {
      const trainer = makeTrainer(split, { optimizer: setting.optimizer, gc: setting.gc, seed });
      const name = `${setting.label}, GC ${setting.gc ? "on" : "off"}, seed ${seed}`;
      const curve = [];
      for (let epoch = 1; epoch <= epochs; epoch++) {
        trainer.epoch(() => bar.tick(`${name}, epoch ${epoch}`));
        curve.push(trainer.evaluate());
      }
      const last = curve[curve.length - 1];
      bar.log(`${name.padEnd(44)} train loss ${last.trainLoss.toFixed(4)}  held-out accuracy ${(100 * last.heldOutAccuracy).toFixed(2)}%  held-out loss ${last.heldOutLoss.toFixed(4)}`);
      setting.runs.push({ seed, curve, epochTimes: trainer.epochTimes });
      trainer.dispose();
    }
  }
  bar.done();

  let tableText = summaryTable(settings);
  const agreement = tfjsAgreement(settings);
  if (agreement) tableText += `\n${agreement}`;
  console.log(`\n${tableText}`);

  // Histograms of each network's first weight: the MLP's first dense layer, the ConvNet's kernel.
  const shown = layers.filter((layer) => ["mlp dense1.weight", "cnn conv.weight"].includes(layer.name));
  const html = renderReport({
    title: "Gradient Centralization on the digits data set",
    intro: `Small networks (softmax cross-entropy; forward and backward written out in examples/digits/mlp.js and convnet.js) trained on ${split.train.count} of the 1797 UCI 8×8 digits, ` +
      `accuracy on the other ${split.heldOut.count} (a fixed seeded split). ${epochs} epochs, batch ${TRAINING.batch}, seeds 1..${seeds} ` +
      `(the same seeds, hence the same initial weights and batch order, with and without GC). Settings: ` +
      optimizers.map(describe).join("; ") +
      `. GC is applied to the gradient of every weight of rank > 1 (dense matrices and the convolution kernel); biases are left alone. Kernels: ${build}. Generated ${new Date().toISOString()}.`,
    results: settings,
    tableText,
    statsText,
    gradients: shown.map(({ name, shape, values, centralized }) => ({ name, shape, before: values, after: centralized })),
  });
  writeFileSync(out, html);
  console.log(`\nwrote ${out} (${(html.length / 1024).toFixed(0)} KiB)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
