#!/usr/bin/env node
// The main job (npm start): small networks on the 1797 8×8 digits, trained with and without
// Gradient Centralization: an MLP with this package's SGD (momentum), Adam and more, a ConvNet with
// its Adam, and the MLP in TF.js (cpu backend) with this package's TF.js optimizers train.adam and
// train.adamw and, for reference, TF.js's tf.train.adam, over a few seeds. Prints the results
// as they come out, per-layer gradient statistics and a summary table, and writes report.html.
// Seed 1 of each package setting also records one layer's per-unit statistics over training, and
// runs once more with GC on the whole update, for the report's per-unit plots.
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { centralize, gradientStats, init } from "gradient-centralization";
import { parseDigits, splitDigits } from "./data.js";
import { progressBar } from "./progress.js";
import { renderReport } from "./report.js";
import { statsTable, summaryTable } from "./tables.js";
import { MISSING, NETWORKS, readableOptimizer, SETTINGS, TRACKED } from "./settings.js";
import { TRAINING, Trainer } from "./train.js";

const TFJS_KINDS = ["tfjs-adam", "tfjs-adamw", "tf-adam"];
const KINDS = [...Object.keys(SETTINGS), ...TFJS_KINDS];
const USAGE = `usage: node examples/digits/main.js [--epochs N] [--seeds N] [--optimizer all|${KINDS.join("|")}[,…]] [--out report.html]`;

let tfjs; // examples/digits/tfjs-trainer.js, loaded only when a TF.js setting is selected

const isPackage = (kind) => kind in SETTINGS;
const labelOf = (kind) => (isPackage(kind) ? SETTINGS[kind].label : tfjs.TFJS_OPTIMIZERS[kind].label);
const networkOf = (kind) => (isPackage(kind) ? SETTINGS[kind].network : "mlp");
/** A setting as the report's settings table shows it: `{ network, optimizer, gc }`, words not JSON. */
const describe = (kind) =>
  isPackage(kind)
    ? { network: NETWORKS[networkOf(kind)].description, optimizer: `this package's ${readableOptimizer(kind)}`, gc: 'off, and "gradient"; seed 1 also "update"' }
    : { network: tfjs.TFJS_NETWORK, optimizer: tfjs.TFJS_OPTIMIZERS[kind].description, gc: tfjs.TFJS_OPTIMIZERS[kind].gc };
/** Why the per-unit weight means of a setting stay flat, or do not, with each GC mode. */
const FLAT_NOTES = {
  SGD: 'with SGD they stay flat with GC on the gradient as well as on the update, since each step is a sum of centred gradients.',
  Lion: 'GC "update" keeps them flat; GC "gradient" does not, since Lion steps by the sign of each weight\'s momentum, which un-centres the step.',
  default: 'GC "update" keeps them flat; GC "gradient" only slows them, since the optimizer scales each weight\'s step on its own, which un-centres the step.',
};
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
 * runs: how far apart their final training losses ended (a cross-check of the implementations).
 */
function tfjsAgreement(settings) {
  const lines = [];
  for (const kind of ["tfjs-adam", "tf-adam"]) {
    for (const gc of [false, "gradient"]) {
      const own = settings.find((s) => s.optimizer === "adam" && s.gc === gc);
      const tfjsRuns = settings.find((s) => s.optimizer === kind && s.gc === gc);
      if (!own || !tfjsRuns) continue;
      const final = (run) => run.curve[run.curve.length - 1].trainLoss;
      const diffs = own.runs.map((run, k) => Math.abs(final(run) - final(tfjsRuns.runs[k])) / final(run));
      lines.push(`${tfjsRuns.label} vs this package's Adam, GC ${gc ? "on" : "off"}: final train losses differ by at most ${(100 * Math.max(...diffs)).toFixed(3)}% (same initial weights and batches)`);
    }
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
  if (MISSING.length) console.log(`  (skipped, not exported by this build of the package: ${MISSING.join(", ")})`);
  for (const o of optimizers) {
    const { network, optimizer } = describe(o);
    console.log(`  ${labelOf(o)}: ${network}, ${optimizer}`);
  }

  const layers = gradientStatistics(split, [...new Set(optimizers.map(networkOf))]);
  const statsText = statsTable(layers);
  console.log(`\nGradient statistics per layer (full training set, seed 1, at initialization), before → after GC:\n${statsText}\n`);

  const networkName = (kind) => (isPackage(kind) ? NETWORKS[networkOf(kind)].description : tfjs.TFJS_NETWORK);
  const settings = optimizers.flatMap((optimizer) => [false, "gradient"].map((gc) => ({ optimizer, gc, label: labelOf(optimizer), network: networkName(optimizer), runs: [] })));
  // Seed 1 of each package setting once more with GC on the whole update: only for the per-unit plots.
  const updateRuns = optimizers.filter(isPackage).map((optimizer) => ({ optimizer, gc: "update", label: labelOf(optimizer), runs: [] }));
  // One unmeasured epoch per setting first, so the JIT warm-up does not land in the first setting's time per step.
  let stepsPerEpoch = 0;
  for (const { optimizer, gc } of settings) {
    const warmUp = makeTrainer(split, { optimizer, gc, seed: 0 });
    warmUp.epoch();
    stepsPerEpoch = warmUp.stepsPerEpoch;
    warmUp.dispose();
  }
  const bar = progressBar((settings.length * seeds + updateRuns.length) * epochs * stepsPerEpoch);
  for (const setting of [...settings, ...updateRuns]) {
    const lastSeed = setting.gc === "update" ? 1 : seeds;
    for (let seed = 1; seed <= lastSeed; seed++) {
      const track = isPackage(setting.optimizer) && seed === 1 ? TRACKED[networkOf(setting.optimizer)] : undefined;
      const trainer = makeTrainer(split, { optimizer: setting.optimizer, gc: setting.gc, seed, track });
      const name = `${setting.label}, GC ${setting.gc === "update" ? "update" : setting.gc ? "on" : "off"}, seed ${seed}`;
      const curve = [];
      for (let epoch = 1; epoch <= epochs; epoch++) {
        trainer.epoch(() => bar.tick(`${name}, epoch ${epoch}`));
        curve.push(trainer.evaluate());
      }
      const last = curve[curve.length - 1];
      bar.log(`${name.padEnd(44)} train loss ${last.trainLoss.toFixed(4)}  held-out accuracy ${(100 * last.heldOutAccuracy).toFixed(2)}%  held-out loss ${last.heldOutLoss.toFixed(4)}`);
      setting.runs.push({ seed, curve, epochTimes: trainer.epochTimes, history: trainer.history });
      trainer.dispose();
    }
  }
  bar.done();

  let tableText = summaryTable(settings);
  const agreement = tfjsAgreement(settings);
  if (agreement) tableText += `\n${agreement}`;
  console.log(`\n${tableText}`);

  // Histograms of each network's first weight: the MLP's first dense layer, the ConvNet's kernel.
  const shown = layers.filter((layer) => Object.entries(TRACKED).some(([network, name]) => layer.name === `${network} ${name}`));
  const tracks = optimizers.filter(isPackage).map((optimizer) => {
    const runs = [...settings, ...updateRuns].filter((s) => s.optimizer === optimizer);
    return {
      label: labelOf(optimizer),
      layer: TRACKED[networkOf(optimizer)],
      flatNote: FLAT_NOTES[SETTINGS[optimizer].Optimizer.name] ?? FLAT_NOTES.default,
      histories: Object.fromEntries(runs.map((s) => [s.gc, s.runs[0].history])),
    };
  });
  const html = renderReport({
    title: "Gradient Centralization on the digits data set",
    intro: `Small networks (softmax cross-entropy; forward and backward written out in examples/digits/mlp.js and convnet.js) learn the UCI 8×8 digits: ` +
      `trained on ${split.train.count} of the 1797 images, accuracy measured on the other ${split.heldOut.count} (a fixed seeded split). ` +
      `Each setting below trains for ${epochs} epochs in batches of ${TRAINING.batch}, from seeds 1 to ${seeds}, without and with GC; ` +
      `a seed fixes the initial weights and the batch order, so each pair of runs differs only by GC. ` +
      `GC applies to every weight of rank > 1 (dense matrices, the convolution kernel); biases are left alone. ` +
      `The TF.js rows train the same MLP in TensorFlow.js on its cpu backend, from the same initial weights and batches, with this package's TF.js optimizers ` +
      `(train.adam, train.adamw: a tf.Optimizer whose step runs in this package's kernels) and with TF.js's own tf.train.adam for reference.`,
    settings: optimizers.map(describe),
    results: settings,
    tracks,
    layers,
    gradients: shown.map(({ name, shape, values, centralized }) => ({ name, shape, before: values, after: centralized })),
    agreement,
    footer: `Kernels: ${build} build. Generated ${new Date().toISOString()} by examples/digits/main.js --epochs ${epochs} --seeds ${seeds}.`,
  });
  writeFileSync(out, html);
  console.log(`\nwrote ${out} (${(html.length / 1024).toFixed(0)} KiB)`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
