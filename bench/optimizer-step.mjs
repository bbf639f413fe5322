// Times one Adam.step() over all 62 ResNet-18 parameters (11,689,512 values, as Tensors in linear
// memory) without GC and with each GC mode and layout, against a plain JavaScript Adam loop over
// Float32Arrays of the same sizes. A timing script, not a test: run it on the built package.
//
//   node bench/optimizer-step.mjs            # SIMD build
//   node bench/optimizer-step.mjs --scalar   # scalar build
//
// Medians of interleaved rounds (bench/harness.mjs), so clock drift hits every case alike.
import { Adam, backend, init, Tensor } from "../dist/index.js";
import { resnet18Parameters } from "../examples/resnet18.js";
import { timeInterleaved } from "./harness.mjs";
import { plainAdamStep, seededValues as values } from "./peers.mjs";

const ROUNDS = 21;
const scalar = process.argv.includes("--scalar");
await init({ simd: !scalar });

const product = (shape) => shape.reduce((a, b) => a * b, 1);


function packageCase(name, layout, options) {
  const shapes = resnet18Parameters(layout).map((p) => p.shape);
  const params = shapes.map((shape, i) => ({
    value: Tensor.from(values(product(shape), i + 1, 0.1), shape),
    grad: Tensor.from(values(product(shape), i + 101, 0.01), shape),
  }));
  const opt = new Adam(params, { layout, ...options });
  return {
    case: { name, run: () => opt.step() },
    dispose: () => {
      opt.dispose();
      for (const p of params) p.value.dispose(), p.grad.dispose();
    },
  };
}

function plainCase() {
  const shapes = resnet18Parameters().map((p) => p.shape);
  const params = shapes.map((shape, i) => {
    const n = product(shape);
    return { w: values(n, i + 1, 0.1), g: values(n, i + 101, 0.01), m: new Float32Array(n), v: new Float32Array(n) };
  });
  let t = 0;
  return {
    case: {
      name: "plain JavaScript Adam (Float32Array loop, no GC)",
      run: () => {
        t++;
        for (const p of params) plainAdamStep(p, t);
      },
    },
    dispose: () => {},
  };
}

const total = resnet18Parameters().reduce((n, p) => n + product(p.shape), 0);
const cases = [
  packageCase("Adam, gc: false", "out-first", { gc: false }),
  packageCase('Adam, gc: "gradient", out-first', "out-first", { gc: "gradient" }),
  packageCase('Adam, gc: "update", out-first', "out-first", { gc: "update" }),
  packageCase('Adam, gc: "gradient", out-last', "out-last", { gc: "gradient" }),
  packageCase('Adam, gc: "update", out-last', "out-last", { gc: "update" }),
  plainCase(),
];

const medians = await timeInterleaved(cases.map((c) => c.case), { rounds: ROUNDS });
for (const c of cases) c.dispose();

const plain = medians.get(cases[cases.length - 1].case.name);
const withoutGc = medians.get(cases[0].case.name);
console.log(`Adam.step() over ResNet-18: 62 tensors, ${total.toLocaleString("en-US")} values; ${backend()} build; ` +
  `Node ${process.versions.node}; median of ${ROUNDS} interleaved rounds\n`);
const rows = [["case", "ms / step", "vs gc: false", "vs plain JS"]];
for (const c of cases) {
  const ms = medians.get(c.case.name);
  rows.push([c.case.name, ms.toFixed(1), `${(ms / withoutGc).toFixed(2)}×`, `${(ms / plain).toFixed(2)}×`]);
}
const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
rows.forEach((r, i) => {
  console.log(`| ${r.map((cell, j) => (j === 0 ? cell.padEnd(widths[j]) : cell.padStart(widths[j]))).join(" | ")} |`);
  if (i === 0) console.log(`|${widths.map((w, j) => (j === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
});
