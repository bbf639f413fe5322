// The main job for now: Gradient Centralization over a ResNet-18-shaped set of gradients.
// For each weight it prints the spread of the output units' gradient means before and after GC
// and the time centralize() took (median of 5 runs; GC is idempotent, so repeats are harmless).
import { backend, centralize, centralizeAll, gradientStats, init, Tensor } from "gradient-centralization";
import { resnet18Parameters } from "./resnet18.js";

/** Seeded standard normal samples (mulberry32 + Box–Muller). */
function normal(seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A gradient whose output units have different means: g[u, …] = (b_u + N(0, 1)) / √fanIn. */
function syntheticGradient(shape, seed) {
  const next = normal(seed);
  const units = shape[0];
  const perUnit = shape.slice(1).reduce((a, b) => a * b, 1);
  const scale = 1 / Math.sqrt(perUnit);
  const tensor = new Tensor(shape);
  const data = tensor.data;
  for (let u = 0; u < units; u++) {
    const bias = 0.5 * next();
    for (let i = 0; i < perUnit; i++) data[u * perUnit + i] = scale * (bias + next());
  }
  return tensor;
}

/** Largest |unit mean| of a gradient. */
function meanSpread(tensor) {
  const { mean } = gradientStats(tensor);
  return mean.reduce((worst, m) => Math.max(worst, Math.abs(m)), 0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pad = (s, n) => String(s).padStart(n);

await init();
const params = resnet18Parameters("out-first");
const weights = params.filter((p) => p.shape.length > 1);
console.log(`gradient-centralization on ResNet-18 (${params.length} parameters, ${weights.length} weights of rank > 1), ${backend()} build\n`);
console.log(`${"layer".padEnd(30)}${pad("shape", 18)}${pad("max |unit mean| before", 24)}${pad("after", 12)}${pad("time ms", 10)}${pad("GB/s", 8)}`);

let total = 0;
const tensors = [];
weights.forEach((p, i) => {
  const grad = syntheticGradient(p.shape, i + 1);
  tensors.push(grad);
  const before = meanSpread(grad);
  const times = [];
  for (let run = 0; run < 5; run++) {
    const start = performance.now();
    centralize(grad);
    times.push(performance.now() - start);
  }
  const ms = median(times);
  total += ms;
  const gbps = (grad.size * 8) / (ms * 1e6); // as bench/: one read and one write of every value
  console.log(
    `${p.name.padEnd(30)}${pad(p.shape.join("×"), 18)}${pad(before.toExponential(2), 24)}${pad(meanSpread(grad).toExponential(2), 12)}${pad(ms.toFixed(3), 10)}${pad(gbps.toFixed(1), 8)}`,
  );
});
const values = weights.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
console.log("GB/s counts one read and one write of every value (the least an in-place GC can move), as npm run bench does.");
console.log(`${params.length - weights.length} parameters of rank 1 (batch-norm scales and biases, the fc bias) are left unchanged.`);
console.log(`sum of per-layer medians: ${total.toFixed(2)} ms for ${(values / 1e6).toFixed(2)}M values`);

const start = performance.now();
centralizeAll(tensors);
console.log(`centralizeAll over all ${weights.length} weights in one call into wasm: ${(performance.now() - start).toFixed(2)} ms`);
for (const t of tensors) t.dispose();
