// One training run: a network on the digits training split, one optimizer, GC on or off, one seed.
// Runs an epoch at a time so that Node can draw a progress bar and the browser can repaint.
import { createOptimizer, NETWORKS, SETTINGS } from "./settings.js";
import { permutation, uniform } from "./random.js";

/** Defaults shared by the Node job and the browser page. */
export const TRAINING = { batch: 32 };

export class Trainer {
  /**
   * @param split `{ train, heldOut }` from `splitDigits`
   * @param options `{ optimizer: a key of SETTINGS, gc: "gradient" | false, seed, batch?, capture? }`;
   *   `capture` names a parameter whose gradient (before the step) is kept in `captured`.
   */
  constructor(split, { optimizer, gc, seed, batch = TRAINING.batch, capture }) {
    this.split = split;
    this.batch = batch;
    this.random = uniform(seed ^ 0x5eed);
    this.model = NETWORKS[SETTINGS[optimizer].network].create(seed);
    this.optimizer = createOptimizer(optimizer, this.model.params, gc);
    this.capture = capture && this.model.params.find((p) => p.name === capture);
    this.captured = undefined;
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
    for (let start = 0; start < train.count; start += this.batch) {
      const count = Math.min(this.batch, train.count - start);
      for (let k = 0; k < count; k++) {
        const n = order[start + k];
        this.x.set(train.images.subarray(n * this.pixels, (n + 1) * this.pixels), k * this.pixels);
        this.labels[k] = train.labels[n];
      }
      const begin = performance.now();
      const loss = this.model.lossAndGradients(this.x, this.labels, count);
      if (this.capture) this.captured = this.capture.grad.data.slice();
      const beforeStep = performance.now();
      this.optimizer.step();
      const end = performance.now();
      this.steps++;
      this.stepMs += end - begin;
      this.optimizerMs += end - beforeStep;
      onStep(loss);
    }
    const count = this.steps - steps;
    this.epochTimes.push({ stepMs: (this.stepMs - stepMs) / count, optimizerMs: (this.optimizerMs - optimizerMs) / count });
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
