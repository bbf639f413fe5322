// One training run: a network on the digits training split, one optimizer, GC on or off, one seed.
// Runs an epoch at a time so that Node can draw a progress bar and the browser can repaint.
import { gradientStats } from "gradient-centralization";
import { createOptimizer, NETWORKS, SETTINGS } from "./settings.js";
import { permutation, uniform } from "./random.js";

/** Defaults shared by the Node job and the browser page. */
export const TRAINING = { batch: 32 };

export class Trainer {
  /**
   * @param split `{ train, heldOut }` from `splitDigits`
   * @param options `{ optimizer: a key of SETTINGS, gc: "gradient" | "update" | false, seed, batch?, capture?, track? }`;
   *   `capture` names a parameter whose gradient (before the step) is kept in `captured`;
   *   `track` names a weight whose per-unit statistics are recorded in `history`.
   */
  constructor(split, { optimizer, gc, seed, batch = TRAINING.batch, capture, track }) {
    this.split = split;
    this.batch = batch;
    this.random = uniform(seed ^ 0x5eed);
    this.model = NETWORKS[SETTINGS[optimizer].network].create(seed);
    this.optimizer = createOptimizer(optimizer, this.model.params, gc);
    this.capture = capture && this.model.params.find((p) => p.name === capture);
    this.captured = undefined;
    this.tracked = track && this.model.params.find((p) => p.name === track);
    /**
     * With `track`: `weightMeans[e][u]`, unit u's weight mean after epoch e (e = 0: initial), and per
     * epoch the mean over steps and units of the raw gradient's |unit mean| and unit std.
     */
    this.history = this.tracked && { weightMeans: [Array.from(gradientStats(this.tracked.value).mean)], gradientMean: [], gradientStd: [] };
    this.pixels = 64;
    this.x = new Float32Array(batch * this.pixels);
    this.labels = new Uint8Array(batch);
    this.steps = 0;
    this.stepMs = 0;
    this.optimizerMs = 0;
    /** Per epoch: mean milliseconds per step (whole step, and the optimizer's step alone). */
    this.epochTimes = [];
  }

  /** Steps per epoch: the training set in batches (the last one smaller). */
  get stepsPerEpoch() {
    return Math.ceil(this.split.train.count / this.batch);
  }

  /** One pass over the training set in a seeded random order, calling `onStep(loss)` after each step. */
  epoch(onStep = () => {}) {
    const { train } = this.split;
    const order = permutation(train.count, this.random);
    const [steps, stepMs, optimizerMs] = [this.steps, this.stepMs, this.optimizerMs];
    const gradient = { mean: 0, std: 0 };
    for (let start = 0; start < train.count; start += this.batch) {
      const count = Math.min(this.batch, train.count - start);
      for (let k = 0; k < count; k++) {
        const n = order[start + k];
        this.x.set(train.images.subarray(n * this.pixels, (n + 1) * this.pixels), k * this.pixels);
        this.labels[k] = train.labels[n];
      }
      const begin = performance.now();
      const loss = this.model.lossAndGradients(this.x, this.labels, count);
      const backward = performance.now();
      if (this.capture) this.captured = this.capture.grad.data.slice();
      if (this.tracked) this.#addGradient(gradient); // not timed: not part of a training step
      const beforeStep = performance.now();
      this.optimizer.step();
      const end = performance.now();
      this.steps++;
      this.stepMs += backward - begin + (end - beforeStep);
      this.optimizerMs += end - beforeStep;
      onStep(loss);
    }
    const count = this.steps - steps;
    if (this.history) {
      this.history.gradientMean.push(gradient.mean / count);
      this.history.gradientStd.push(gradient.std / count);
      this.history.weightMeans.push(Array.from(gradientStats(this.tracked.value).mean));
    }
    this.epochTimes.push({ stepMs: (this.stepMs - stepMs) / count, optimizerMs: (this.optimizerMs - optimizerMs) / count });
  }

  /** Adds the tracked gradient's mean over units of |unit mean| and of unit std to `sums`. */
  #addGradient(sums) {
    const { mean, std, units } = gradientStats(this.tracked.grad);
    for (let u = 0; u < units; u++) {
      sums.mean += Math.abs(mean[u]) / units;
      sums.std += std[u] / units;
    }
  }

  /** Loss and accuracy on the whole training set and on the held-out set. */
  evaluate() {
    const train = this.model.evaluate(this.split.train);
    const heldOut = this.model.evaluate(this.split.heldOut);
    return { trainLoss: train.loss, trainAccuracy: train.accuracy, heldOutLoss: heldOut.loss, heldOutAccuracy: heldOut.accuracy };
  }

  dispose() {
    this.model.dispose();
  }
}
