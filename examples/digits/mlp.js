// A small multilayer perceptron with its forward and backward passes written out: dense layers
// with ReLU between them, softmax cross-entropy at the end. Weights are out-first ([out, in],
// like PyTorch) and live in this package's linear memory as Tensors, so the optimizers update
// them in place.
import { Tensor } from "gradient-centralization";
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
      const weight = { name: `dense${l + 1}.weight`, shape: [outputs, inputs] };
      const bias = { name: `dense${l + 1}.bias`, shape: [outputs] };
      for (const p of [weight, bias]) {
        p.value = new Tensor(p.shape);
        p.grad = new Tensor(p.shape);
      }
      const scale = Math.sqrt(2 / inputs);
      const w = weight.value.data;
      for (let i = 0; i < w.length; i++) w[i] = scale * gaussian();
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
    let loss = 0;
    for (let n = 0; n < count; n++) {
      const row = n * classes;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]);
      let total = 0;
      for (let c = 0; c < classes; c++) total += Math.exp(logits[row + c] - max);
      loss += Math.log(total) + max - logits[row + labels[n]];
      // d(mean loss)/d logits = (softmax − one-hot) / count
      for (let c = 0; c < classes; c++) top[row + c] = (Math.exp(logits[row + c] - max) / total - (c === labels[n] ? 1 : 0)) / count;
    }
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

  /** Mean cross-entropy and accuracy over a whole data set, in batches of `batch`. */
  evaluate(data, batch = 256) {
    const classes = this.sizes[this.sizes.length - 1];
    const pixels = this.sizes[0];
    let loss = 0;
    let correct = 0;
    for (let start = 0; start < data.count; start += batch) {
      const count = Math.min(batch, data.count - start);
      const logits = this.forward(data.images.subarray(start * pixels), count);
      for (let n = 0; n < count; n++) {
        const row = logits.subarray(n * classes, (n + 1) * classes);
        const max = Math.max(...row);
        let total = 0;
        for (const z of row) total += Math.exp(z - max);
        const label = data.labels[start + n];
        loss += Math.log(total) + max - row[label];
        if (row.indexOf(max) === label) correct++;
      }
    }
    return { loss: loss / data.count, accuracy: correct / data.count };
  }

  /** Frees the parameters' memory. */
  dispose() {
    for (const p of this.params) {
      p.value.dispose();
      p.grad.dispose();
    }
  }
}
