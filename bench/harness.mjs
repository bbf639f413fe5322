// Interleaved timing: every implementation of a workload runs once per round, in turn, so that
// drifts of clock speed or of the other core's load hit all of them alike; medians over rounds.

/** Median of a list of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Times `cases` ({ name, run, enter? }) interleaved: a warm-up, then `rounds` rounds in which each
 * case runs a batch sized to take about `batchMs`. `enter()` (awaited, untimed) runs before each
 * batch, e.g. to switch TF.js's backend. Returns { name → median ms per call }.
 */
export async function timeInterleaved(cases, { rounds = 15, batchMs = 20 } = {}) {
  const batch = new Map();
  const slow = new Set();
  for (const c of cases) {
    await c.enter?.();
    const warm = performance.now();
    c.run();
    if (performance.now() - warm > 1000) {
      slow.add(c.name);
      batch.set(c.name, 1);
      continue;
    }
    const start = performance.now();
    let calls = 0;
    do {
      c.run();
      calls++;
    } while (performance.now() - start < batchMs / 4 && calls < 1e6);
    const per = (performance.now() - start) / calls;
    batch.set(c.name, Math.max(1, Math.round(batchMs / Math.max(per, 1e-6))));
  }
  const samples = new Map(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      // A case slower than a second per call (TF.js cpu on 11.7M values) runs 3 rounds only.
      if (r >= 3 && slow.has(c.name)) continue;
      const n = batch.get(c.name);
      await c.enter?.();
      const start = performance.now();
      for (let i = 0; i < n; i++) c.run();
      samples.get(c.name).push((performance.now() - start) / n);
    }
  }
  return new Map([...samples].map(([name, s]) => [name, median(s)]));
}

/**
 * `timeInterleaved` over each group of `cases` (by their `group` field, cases without one
 * together) in turn, with a full garbage collection before each group where node runs with
 * --expose-gc: TF.js's temporaries (gigabytes per step on the cpu backend) are then not collected
 * on the other core while this package's cases run, which slowed the threaded ones most. Returns
 * { name → median ms } in the order of `cases`.
 */
export async function timeGrouped(cases, options) {
  const groups = new Map();
  for (const c of cases) {
    const key = c.group ?? "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  const times = new Map();
  for (const group of groups.values()) {
    globalThis.gc?.();
    for (const [name, ms] of await timeInterleaved(group, options)) times.set(name, ms);
  }
  return new Map(cases.map((c) => [c.name, times.get(c.name)]));
}
