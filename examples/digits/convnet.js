// A small convolutional network with its forward and backward passes written out:
// conv 3×3 (8 filters, no padding) → ReLU → dense → softmax cross-entropy. The convolution kernel
// is out-first ([filters, 1, 3, 3], like PyTorch), a rank-4 weight: what the paper's GCC centralizes.
import { disposeParameters, evaluateModel, fillNormal, parameter, softmaxCrossEntropy } from "./layers.js";
import { normal, uniform } from "./random.js";

const SIDE = 8; // 8×8 images, one channel

export class ConvNet {
  /** `filters` 3×3 filters then a dense layer to `classes`, He-initialized from `seed`. */
  constructor(seed, { filters = 8, kernel = 3, classes = 10 } = {}) {
    const gaussian = normal(uniform(seed));
    this.filters = filters;
    this.kernel = kernel;
    this.classes = classes;
    this.side = SIDE - kernel + 1; // "valid" convolution: 6×6 outputs
    this.features = filters * this.side * this.side;
    this.conv = { weight: parameter("conv.weight", [filters, 1, kernel, kernel]), bias: parameter("conv.bias", [filters]) };
    this.dense = { weight: parameter("dense.weight", [classes, this.features]), bias: parameter("dense.bias", [classes]) };
    fillNormal(this.conv.weight.value.data, Math.sqrt(2 / (kernel * kernel)), gaussian);
    fillNormal(this.dense.weight.value.data, Math.sqrt(2 / this.features), gaussian);
    this.params = [this.conv.weight, this.conv.bias, this.dense.weight, this.dense.bias];
    this.capacity = 0;
  }

  #buffers(count) {
    if (count > this.capacity) {
      this.capacity = count;
      this.input = new Float32Array(count * SIDE * SIDE);
      this.hidden = new Float32Array(count * this.features); // ReLU(conv), [count, filters, side, side]
      this.dhidden = new Float32Array(count * this.features);
      this.logits = new Float32Array(count * this.classes);
      this.dlogits = new Float32Array(count * this.classes);
    }
  }

  /** Forward pass over `count` images in `x` ([count, 64]); returns the logits [count, classes]. */
  forward(x, count) {
    this.#buffers(count);
    const { filters, kernel: k, side, features, classes } = this;
    this.input.set(x.subarray(0, count * SIDE * SIDE));
    const [w, b] = [this.conv.weight.value.data, this.conv.bias.value.data];
    const [dw, db] = [this.dense.weight.value.data, this.dense.bias.value.data];
    for (let n = 0; n < count; n++) {
      const image = n * SIDE * SIDE;
      for (let f = 0; f < filters; f++) {
        for (let i = 0; i < side; i++) {
          for (let j = 0; j < side; j++) {
            let sum = b[f];
            for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) sum += w[(f * k + u) * k + v] * this.input[image + (i + u) * SIDE + j + v];
            this.hidden[n * features + (f * side + i) * side + j] = sum > 0 ? sum : 0;
          }
        }
      }
      for (let c = 0; c < classes; c++) {
        let sum = db[c];
        for (let h = 0; h < features; h++) sum += dw[c * features + h] * this.hidden[n * features + h];
        this.logits[n * classes + c] = sum;
      }
    }
    return this.logits;
  }

  /** Forward and backward over one batch; sets every parameter's `grad` and returns the mean loss. */
  lossAndGradients(x, labels, count) {
    const { filters, kernel: k, side, features, classes } = this;
    const logits = this.forward(x, count);
    const { loss } = softmaxCrossEntropy(logits, labels, count, classes, this.dlogits);
    const denseW = this.dense.weight.value.data;
    const [gDenseW, gDenseB] = [this.dense.weight.grad.data, this.dense.bias.grad.data];
    const [gConvW, gConvB] = [this.conv.weight.grad.data, this.conv.bias.grad.data];
    for (const g of [gDenseW, gDenseB, gConvW, gConvB]) g.fill(0);
    for (let n = 0; n < count; n++) {
      for (let c = 0; c < classes; c++) {
        const d = this.dlogits[n * classes + c];
        gDenseB[c] += d;
        for (let h = 0; h < features; h++) gDenseW[c * features + h] += d * this.hidden[n * features + h];
      }
      for (let h = 0; h < features; h++) {
        if (this.hidden[n * features + h] <= 0) {
          this.dhidden[n * features + h] = 0; // ReLU: no gradient where the unit was off
          continue;
        }
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += this.dlogits[n * classes + c] * denseW[c * features + h];
        this.dhidden[n * features + h] = sum;
      }
      const image = n * SIDE * SIDE;
      for (let f = 0; f < filters; f++) {
        for (let i = 0; i < side; i++) {
          for (let j = 0; j < side; j++) {
            const d = this.dhidden[n * features + (f * side + i) * side + j];
            if (d === 0) continue;
            gConvB[f] += d;
            for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) gConvW[(f * k + u) * k + v] += d * this.input[image + (i + u) * SIDE + j + v];
          }
        }
      }
    }
    return loss / count;
  }

  /** Mean cross-entropy and accuracy over a whole data set. */
  evaluate(data) {
    return evaluateModel(this, data, this.classes);
  }

  dispose() {
    disposeParameters(this.params);
  }
}
