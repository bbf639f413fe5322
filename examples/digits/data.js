// The digits data set (examples/data/digits.csv.gz): 1797 8×8 images of 0..16, labels 0..9.
// Parsing and splitting only; reading the file is the caller's job (Node or the browser).
import { permutation, uniform } from "./random.js";

export const PIXELS = 64;
export const CLASSES = 10;
/** The seed of the fixed train / held-out split (the run seeds never change it). */
export const SPLIT_SEED = 20200407;

/**
 * Parses the CSV (64 pixel values then the label, one image a line) into
 * `{ images: Float32Array(n·64) scaled to [0, 1], labels: Uint8Array(n), count: n }`.
 */
export function parseDigits(csv) {
  const lines = csv.split("\n").filter((line) => line.trim() !== "");
  const images = new Float32Array(lines.length * PIXELS);
  const labels = new Uint8Array(lines.length);
  lines.forEach((line, n) => {
    const fields = line.split(",").map(Number);
    if (fields.length !== PIXELS + 1 || fields.some((x) => !Number.isFinite(x))) {
      throw new Error(`digits.csv line ${n + 1}: expected ${PIXELS + 1} numbers`);
    }
    for (let p = 0; p < PIXELS; p++) images[n * PIXELS + p] = fields[p] / 16;
    labels[n] = fields[PIXELS];
  });
  return { images, labels, count: lines.length };
}

/** The examples at `indices`, as a new data set. */
export function subset(data, indices) {
  const images = new Float32Array(indices.length * PIXELS);
  const labels = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    images.set(data.images.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    labels[k] = data.labels[i];
  });
  return { images, labels, count: indices.length };
}

/** The fixed split: a seeded shuffle, then the last quarter (450 of 1797) held out. */
export function splitDigits(data, heldOutFraction = 0.25) {
  const order = permutation(data.count, uniform(SPLIT_SEED));
  const heldOut = Math.round(data.count * heldOutFraction);
  return { train: subset(data, order.slice(0, data.count - heldOut)), heldOut: subset(data, order.slice(data.count - heldOut)) };
}
