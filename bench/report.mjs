// Formats benchmark results as markdown: one table per workload, then the targets with their ratios.

const fmtMs = (ms) => (ms < 0.01 ? ms.toFixed(5) : ms < 1 ? ms.toFixed(4) : ms.toFixed(2));
const fmtX = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(2)) + "×";

function gcTables(rows, memory) {
  const out = [];
  for (const workload of [...new Set(rows.map((r) => r.workload))]) {
    const group = rows.filter((r) => r.workload === workload);
    const get = (name) => group.find((r) => r.name === name)?.ms;
    const limit = get("limit: SIMD x·1 pass");
    const plain = get("plain JS");
    const tfWasm = get("TF.js wasm");
    const values = group[0].values;
    out.push(`### ${workload} (${(values / 1e6).toFixed(3)}M values, ${((values * 4) / 1e6).toFixed(2)} MB)`, "");
    out.push("| implementation | median ms | GB/s (1 read + 1 write) | time ÷ SIMD memory pass | speed-up vs plain JS | speed-up vs TF.js wasm |");
    out.push("|---|---:|---:|---:|---:|---:|");
    for (const { name, ms } of group) {
      const gbps = (values * 8) / (ms * 1e6);
      out.push(`| ${name} | ${fmtMs(ms)} | ${gbps.toFixed(1)} | ${fmtX(ms / limit)} | ${fmtX(plain / ms)} | ${fmtX(tfWasm / ms)} |`);
    }
    if (memory?.has(workload)) out.push("", `Linear memory of the package after this workload: ${(memory.get(workload) / 2 ** 20).toFixed(1)} MiB.`);
    out.push("");
  }
  return out;
}

function optimizerTable(optimizers) {
  const { rows, values } = optimizers;
  const get = (name) => rows.find((r) => r.name === name)?.ms;
  const limit = get("limit: SIMD pass over w, g, m, v");
  const plain = get("plain JS Adam");
  const out = [`### Optimizer step, all 62 ResNet-18 parameters (${(values / 1e6).toFixed(2)}M values)`, ""];
  out.push("| implementation | median ms | time ÷ w,g,m,v memory pass | speed-up vs plain JS Adam |");
  out.push("|---|---:|---:|---:|");
  for (const { name, ms } of rows) out.push(`| ${name} | ${fmtMs(ms)} | ${fmtX(ms / limit)} | ${fmtX(plain / ms)} |`);
  out.push("");
  return out;
}

/** The targets: [description, measured ratio, bound, "≤" | "≥"]. */
function targets(gc, optimizers, accuracy, allocation) {
  const ms = (workload, name) => gc.rows.find((r) => r.workload.startsWith(workload) && r.name === name)?.ms;
  const first = "ResNet-18, 21 weights, out-first";
  const last = "ResNet-18, 21 weights, out-last";
  const list = [
    ["GC out-first, ResNet-18: time ÷ SIMD memory pass", ms(first, "simd Tensor") / ms(first, "limit: SIMD x·1 pass"), 1.3, "≤"],
    ["GC out-last, ResNet-18: time ÷ SIMD memory pass", ms(last, "simd Tensor") / ms(last, "limit: SIMD x·1 pass"), 1.6, "≤"],
    ["GC out-first, ResNet-18: speed-up vs plain JS", ms(first, "plain JS") / ms(first, "simd Tensor"), 15, "≥"],
    ["GC out-last, ResNet-18: speed-up vs plain JS", ms(last, "plain JS") / ms(last, "simd Tensor"), 15, "≥"],
    ["GC out-first, ResNet-18: speed-up vs TF.js wasm", ms(first, "TF.js wasm") / ms(first, "simd Tensor"), 5, "≥"],
    ["GC out-last, ResNet-18: speed-up vs TF.js wasm", ms(last, "TF.js wasm") / ms(last, "simd Tensor"), 15, "≥"],
    ["one [10, 64] Tensor through centralize(), µs", ms("one [10, 64]", "simd Tensor") * 1000, 1, "≤"],
  ];
  const get = (name) => optimizers.rows.find((r) => r.name === name)?.ms;
  list.push(
    ["Adam + GC step ÷ w,g,m,v memory pass", get("simd Adam + GC (gradient)") / get("limit: SIMD pass over w, g, m, v"), 1.4, "≤"],
    ["Adam + GC step: speed-up vs TF.js wasm Adam (no GC)", get("TF.js wasm adam") / get("simd Adam + GC (gradient)"), 6, "≥"],
  );
  if (get("threads 2 Adam + GC (gradient)") !== undefined) {
    // Issue 13's targets (threads: 2 on 2 cores).
    list.push(
      ["GC out-first, ResNet-18: threads 2 speed-up vs one thread", ms(first, "simd Tensor") / ms(first, "threads 2 Tensor"), 1.4, "≥"],
      ["GC out-last, ResNet-18: threads 2 speed-up vs one thread", ms(last, "simd Tensor") / ms(last, "threads 2 Tensor"), 1.4, "≥"],
      ["Adam + GC step: threads 2 speed-up vs one thread", get("simd Adam + GC (gradient)") / get("threads 2 Adam + GC (gradient)"), 1.5, "≥"],
      ["Adam + GC step, threads 2 ÷ one-thread w,g,m,v memory pass", get("threads 2 Adam + GC (gradient)") / get("limit: SIMD pass over w, g, m, v"), 1.0, "≤"],
      ["one [10, 64] Tensor: threads on ÷ off (≤ 2% slower)", ms("one [10, 64]", "threads 2 Tensor") / ms("one [10, 64]", "simd Tensor"), 1.02, "≤"],
    );
  }
  const perPair = allocation.find((r) => r.name.includes("10⁵ live"))?.us;
  list.push(["new Tensor + dispose() with 10⁵ live tensors, µs", perPair, 5, "≤"]);
  list.push(["large-offset accuracy: max |GC − float64| on 1000 + N(0,1)", accuracy, 5e-7, "≤"]);
  return list;
}

function rulesTable(rules) {
  const out = ["### Every rule, all 62 ResNet-18 parameters, out-first: gc off and gc \"gradient\"", ""];
  out.push(
    "The limit is one SIMD pass over the buffers the rule touches (w, g and its state: read all, write all but g).",
    "",
    "| rule | buffers | gc off ms | ÷ memory pass | GC ms | ÷ memory pass | GC cost | linear memory grew while stepping |",
    "|---|---:|---:|---:|---:|---:|---:|:---:|",
  );
  for (const { rule, buffers, off, gc, limit, grew } of rules) {
    out.push(`| ${rule} | ${buffers} | ${fmtMs(off)} | ${fmtX(off / limit)} | ${fmtMs(gc)} | ${fmtX(gc / limit)} | ${fmtX(gc / off)} | ${grew ? "**yes**" : "no"} |`);
  }
  out.push("");
  return out;
}

function adapterTable(adapter) {
  const out = ["### TF.js adapter: tf.train.adam applyGradients on the digits MLP (64-64-10), per step", ""];
  out.push("| backend | plain ms | withGradientCentralization ms | added ms per step |", "|---|---:|---:|---:|");
  for (const { backend, plain, wrapped } of adapter) out.push(`| ${backend} | ${fmtMs(plain)} | ${fmtMs(wrapped)} | ${fmtMs(wrapped - plain)} |`);
  out.push("");
  return out;
}

function allocationTable(allocation) {
  const out = ["| allocate + free | µs per pair |", "|---|---:|"];
  for (const { name, us } of allocation) out.push(`| ${name} | ${us.toFixed(2)} |`);
  out.push("");
  return out;
}

/** The whole report as markdown. */
export function formatResults({ gc, optimizers, rules, adapter, allocation, machine, accuracy }) {
  const out = ["# Benchmark results", ""];
  out.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores; Node ${machine.node} (V8 ${machine.v8}); TF.js ${machine.tfjs}; ${machine.date}${machine.quick ? "; --quick" : ""}.`,
    "Medians of interleaved rounds. GB/s counts one read and one write of every value, the least any in-place GC can move.",
    "",
    "## Targets",
    "",
    "| target | measured | bound | met |",
    "|---|---:|---:|:---:|",
  );
  for (const [what, value, bound, op] of targets(gc, optimizers, accuracy, allocation)) {
    const met = op === "≤" ? value <= bound : value >= bound;
    const shown = value < 1e-3 ? value.toExponential(2) : value.toFixed(2);
    out.push(`| ${what} | ${shown} | ${op} ${bound} | ${met ? "yes" : "**no**"} |`);
  }
  out.push("", "## Gradient Centralization", "", ...gcTables(gc.rows, gc.memory), "## Optimizer step", "", ...optimizerTable(optimizers), ...rulesTable(rules), "## TF.js adapter", "", ...adapterTable(adapter), "## Allocation", "", ...allocationTable(allocation));
  return out.join("\n");
}
