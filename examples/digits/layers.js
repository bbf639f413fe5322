// What the example's networks share: parameters in linear memory, softmax cross-entropy, evaluation.
import { Tensor } from "gradient-centralization";

/** A parameter as the optimizers take it: `{ name, shape, value, grad }`, value and grad Tensors (zeros). */
export function parameter(name, shape) {
  return { name, shape, value: new Tensor(shape), grad: new Tensor(shape) };
}

/** Fills `values` with `scale · N(0, 1)` samples from `gaussian`. */
export function fillNormal(values, scale, gaussian) {
  for (let i = 0; i < values.length; i++) values[i] = scale * gaussian();
}

/** Frees the parameters' memory. */
export function disposeParameters(params) {
  for (const p of params) {
    p.value.dispose();
    p.grad.dispose();
  }
}

/**
 * Sum over `count` examples of the softmax cross-entropy `log Σ exp(z) − z[label]` of the logits
 * ([count, classes]); when `dlogits` is given, it receives d(mean loss)/d logits = (softmax − one-hot) / count.
 * Returns `{ loss, correct }` (summed loss, number of examples whose largest logit is the label).
 */
export function softmaxCrossEntropy(logits, labels, count, classes, dlogits) {
  let loss = 0;
  let correct = 0;
  for (let n = 0; n < count; n++) {
    const row = n * classes;
    let max = -Infinity;
    let argmax = 0;
    for (let c = 0; c < classes; c++) {
      if (logits[row + c] > max) [max, argmax] = [logits[row + c], c];
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.exp(logits[row + c] - max);
    loss += Math.log(total) + max - logits[row + labels[n]];
    if (argmax === labels[n]) correct++;
    if (!dlogits) continue;
    for (let c = 0; c < classes; c++) dlogits[row + c] = (Math.exp(logits[row + c] - max) / total - (c === labels[n] ? 1 : 0)) / count;
  }
  return { loss, correct };
}

/** Mean cross-entropy and accuracy of `model` (with `forward(x, count)` → logits) over a data set. */
export function evaluateModel(model, data, classes = 10, pixels = 64, batch = 256) {
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += batch) {
    const count = Math.min(batch, data.count - start);
    const logits = model.forward(data.images.subarray(start * pixels), count);
    const result = softmaxCrossEntropy(logits, data.labels.subarray(start), count, classes);
    loss += result.loss;
    correct += result.correct;
  }
  return { loss: loss / data.count, accuracy: correct / data.count };
}
