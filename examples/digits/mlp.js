// A small multilayer perceptron with its forward and backward passes written out: dense layers
// with ReLU between them, softmax cross-entropy at the end. Weights are out-first ([out, in],
// like PyTorch) and live in this package's linear memory as Tensors, so the optimizers update
// them in place.
import { disposeParameters, evaluateModel, fillNormal, parameter, softmaxCrossEntropy } from "./layers.js";
import { normal, uniform } from "./random.js";

/**
 * An MLP with layer sizes `sizes` (e.g. `[64, 64, 10]`), He-initialized from `seed`.
 * `params` is the list the optimizers take: `{ name, shape, value, grad }` per weight and bias.
 */
export class Mlp {
  constructor(sizes, seed) {
    this.sizes = sizes;
    const gaussian = normal(uniform(seed));
    this.layers = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [inputs, outputs] = [sizes[l], sizes[l + 1]];
      const weight = parameter(`dense${l + 1}.weight`, [outputs, inputs]);
      const bias = parameter(`dense${l + 1}.bias`, [outputs]);
      fillNormal(weight.value.data, Math.sqrt(2 / inputs), gaussian);
      this.layers.push({ weight, bias, inputs, outputs });
    }
    this.params = this.layers.flatMap((layer) => [layer.weight, layer.bias]);
    this.capacity = 0;
  }

  /** Activation buffers for batches of up to `count` examples (reused between calls). */
  #buffers(count) {
    if (count > this.capacity) {
      this.capacity = count;
      this.activations = this.sizes.map((size) => new Float32Array(count * size));
      this.deltas = this.sizes.map((size) => new Float32Array(count * size));
    }
  }

  /** Forward pass over `count` images in `x` ([count, 64]); returns the logits [count, 10]. */
  forward(x, count) {
    this.#buffers(count);
    this.activations[0].set(x.subarray(0, count * this.sizes[0]));
    this.layers.forEach((layer, l) => {
      const { inputs, outputs } = layer;
      const w = layer.weight.value.data;
      const b = layer.bias.value.data;
      const a = this.activations[l];
      const z = this.activations[l + 1];
      const relu = l + 1 < this.layers.length;
      for (let n = 0; n < count; n++) {
        for (let o = 0; o < outputs; o++) {
          let sum = b[o];
          for (let i = 0; i < inputs; i++) sum += w[o * inputs + i] * a[n * inputs + i];
          z[n * outputs + o] = relu && sum < 0 ? 0 : sum;
        }
      }
    });
    return this.activations[this.sizes.length - 1];
  }

  /**
   * Forward and backward over one batch: mean softmax cross-entropy of the labels, and every
   * parameter's `grad` set to its gradient. Returns the loss.
   */
  lossAndGradients(x, labels, count) {
    const logits = this.forward(x, count);
    const classes = this.sizes[this.sizes.length - 1];
    const top = this.deltas[this.sizes.length - 1];
    const { loss } = softmaxCrossEntropy(logits, labels, count, classes, top);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const { weight, bias, inputs, outputs } = this.layers[l];
      const w = weight.value.data;
      const dw = weight.grad.data;
      const db = bias.grad.data;
      const a = this.activations[l];
      const dz = this.deltas[l + 1];
      dw.fill(0);
      db.fill(0);
      for (let n = 0; n < count; n++) {
        for (let o = 0; o < outputs; o++) {
          const d = dz[n * outputs + o];
          if (d === 0) continue;
          db[o] += d;
          for (let i = 0; i < inputs; i++) dw[o * inputs + i] += d * a[n * inputs + i];
        }
      }
      if (l === 0) break;
      const da = this.deltas[l];
      for (let n = 0; n < count; n++) {
        for (let i = 0; i < inputs; i++) {
          if (a[n * inputs + i] <= 0) {
            da[n * inputs + i] = 0; // ReLU: no gradient where the unit was off
            continue;
          }
          let sum = 0;
          for (let o = 0; o < outputs; o++) sum += dz[n * outputs + o] * w[o * inputs + i];
          da[n * inputs + i] = sum;
        }
      }
    }
    return loss / count;
  }

  /** Mean cross-entropy and accuracy over a whole data set. */
  evaluate(data) {
    return evaluateModel(this, data, this.sizes[this.sizes.length - 1], this.sizes[0]);
  }

  /** Frees the parameters' memory. */
  dispose() {
    disposeParameters(this.params);
  }
}
