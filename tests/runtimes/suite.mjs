// The conformance suite: one body of checks, plain JavaScript, run unchanged in every runtime
// against the packed package. `gc` is the package's namespace (ESM import or CJS require),
// `fixtures` is fixtures.json, `build` is "simd" or "scalar" (the one this fresh instance must use)
// or "threads" (init({ threads: 2 }): "simd-threads" where workers and shared memory exist, else
// the "simd" fallback; the result says which in `backend`),
// `loader` is "init" (async, the default) or "initSync": how the suite loads the kernels.
// No test framework: each check throws on failure; runSuite counts and reports.

/** Largest |actual[i] − expected[i]|; NaN anywhere counts as Infinity. */
function maxAbsDiff(actual, expected) {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
  }
  return worst;
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function assertClose(actual, expected, tolerance, what) {
  const diff = maxAbsDiff(actual, expected);
  assert(diff <= tolerance, `${what}: max |diff| ${diff} > ${tolerance}`);
}

function assertSame(actual, expected, what) {
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`${what}: [${i}] is ${actual[i]}, expected ${expected[i]}`);
  }
  assert(actual.length === expected.length, `${what}: length ${actual.length}, expected ${expected.length}`);
}

/** Asserts that `call` throws an error of class `type` whose message matches `pattern`. */
function assertThrows(call, type, pattern, what) {
  try {
    call();
  } catch (error) {
    assert(error instanceof type, `${what}: threw ${error?.constructor?.name}, expected ${type.name}: ${error?.message}`);
    assert(pattern.test(error.message), `${what}: message "${error.message}" does not match ${pattern}`);
    return;
  }
  throw new Error(`${what}: did not throw`);
}

/** The checks, in order; each gets the package, the fixtures and the build. */
function checks(fixtures, loader) {
  const list = [
    ["before init, backend() and centralize() throw a TypeError saying to call init", (gc) => {
      assertThrows(() => gc.backend(), TypeError, /init\(\)/, "backend()");
      const grad = new Float32Array([1, 2, 3, 4]);
      assertThrows(() => gc.centralize(grad, [2, 2]), TypeError, /^centralize: .*init\(\)/, "centralize()");
      assertSame(grad, [1, 2, 3, 4], "grad after the rejected call");
    }],
    [`${loader}({ simd }) loads the requested build and backend() reports it`, async (gc, build) => {
      if (build === "threads") {
        const loaded = await gc.init({ threads: 2 });
        assert(loaded === "simd-threads" || loaded === "simd", `init({ threads: 2 }) gave ${loaded}`);
        assert(gc.backend() === loaded, `backend() is ${gc.backend()}, init gave ${loaded}`);
        return;
      }
      const loaded = loader === "initSync" ? gc.initSync({ simd: build === "simd" }) : await gc.init({ simd: build === "simd" });
      assert(loaded === build, `${loader} gave ${loaded}, expected ${build}`);
      assert(gc.backend() === build, `backend() is ${gc.backend()}, expected ${build}`);
    }],
  ];
  for (const c of fixtures.centralize) {
    list.push([`centralize ${c.name}`, (gc) => {
      const grad = Float32Array.from(c.input);
      const returned = gc.centralize(grad, c.shape, { layout: c.layout, convOnly: c.convOnly });
      assert(returned === grad, "centralize returns its argument");
      assertClose(grad, c.expected, c.tolerance, c.name);
    }]);
  }
  list.push(
    ["centralize on a Tensor in linear memory (zero-copy) matches the oracle", (gc) => {
      const c = fixtures.centralize.find((f) => f.layout === "out-last" && f.shape.length === 4 && !f.convOnly);
      const tensor = gc.Tensor.from(Float32Array.from(c.input), c.shape);
      try {
        gc.centralize(tensor, { layout: c.layout });
        assertClose(tensor.data, c.expected, c.tolerance, "tensor.data");
      } finally {
        tensor.dispose();
      }
    }],
    ["centralizeAll over mixed ranks matches the oracle for every entry", (gc) => {
      const { layout, entries, tolerance } = fixtures.centralizeAll;
      const grads = entries.map((e) => ({ grad: Float32Array.from(e.input), shape: e.shape }));
      gc.centralizeAll(grads, { layout });
      grads.forEach((g, k) => assertClose(g.grad, entries[k].expected, tolerance, `entry ${k} [${entries[k].shape}]`));
    }],
    ["a Tensor made before memory growth still reads and writes after it", (gc) => {
      const { shape, input, expected, growFloats, tolerance } = fixtures.growth;
      const tensor = gc.Tensor.from(Float32Array.from(input), shape);
      const before = tensor.data;
      const big = new gc.Tensor([growFloats]);
      try {
        if (gc.backend() === "simd-threads") {
          // Shared memory: growth gives a new buffer object and never detaches the old one.
          assert(tensor.data.buffer !== before.buffer, "memory did not grow (tensor.data has the old buffer)");
          assertSame(before, Float32Array.from(input), "the view from before growth");
        } else assert(before.buffer.byteLength === 0, "memory did not grow (the old view is not detached)");
        assert(tensor.data !== before && tensor.data.buffer.byteLength > 0, "tensor.data was not re-created after growth");
        assertSame(tensor.data, Float32Array.from(input), "values read after growth");
        gc.centralize(tensor);
        assertClose(tensor.data, expected, tolerance, "centralized after growth");
        tensor.data[0] = 42;
        assert(tensor.data[0] === 42, "a write through tensor.data after growth is not read back");
      } finally {
        big.dispose();
        tensor.dispose();
      }
    }],
    ["gradientStats per-unit mean and std match the oracle", (gc) => {
      const { shape, layout, input, mean, std, tolerance } = fixtures.stats;
      const stats = gc.gradientStats(Float32Array.from(input), shape, { layout });
      assert(stats.units === mean.length, `units ${stats.units}, expected ${mean.length}`);
      assertClose(stats.mean, mean, tolerance, "mean");
      assertClose(stats.std, std, tolerance, "std");
    }],
    ["large calls (split across the threads in the threads build) match a float64 oracle: rows, columns, Adam", (gc) => {
      const rows = 384;
      const cols = 300;
      const input = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 3 + (i % 7));
      for (const layout of ["out-first", "out-last"]) {
        const grad = gc.centralize(input.slice(), [rows, cols], { layout });
        const [units, stride, step] = layout === "out-first" ? [rows, 1, cols] : [cols, cols, 1];
        const count = rows * cols / units;
        for (let u = 0; u < units; u++) {
          let mean = 0;
          for (let k = 0; k < count; k++) mean += input[u * step + k * stride];
          mean /= count;
          for (let k = 0; k < count; k++) {
            const at = u * step + k * stride;
            const expected = input[at] - mean;
            assert(Math.abs(grad[at] - expected) <= 1e-5, `${layout} value ${at}: ${grad[at]}, expected ${expected}`);
          }
        }
      }
      // Adam (lr 0.1), first step with GC on out-first rows: w − 0.1·d/(|d| + 1e-8), d the centered gradient.
      const value = new Float32Array(rows * cols).fill(1);
      const opt = new gc.Adam([{ value, grad: input.slice(), shape: [rows, cols] }], { lr: 0.1 });
      try {
        opt.step();
      } finally {
        opt.dispose();
      }
      for (let r = 0; r < rows; r++) {
        let mean = 0;
        for (let c = 0; c < cols; c++) mean += input[r * cols + c];
        mean /= cols;
        for (let c = 0; c < cols; c++) {
          const d = input[r * cols + c] - mean;
          const expected = 1 - (0.1 * d) / (Math.abs(d) + 1e-8);
          const got = value[r * cols + c];
          // |d| near 0: d/(|d| + eps) is sensitive to d's float32 rounding, but the step stays within lr
          const bound = Math.abs(d) >= 1e-4 ? 1e-5 : 0.1 + 1e-5;
          assert(Math.abs(got - expected) <= bound, `Adam value ${r * cols + c}: ${got}, expected ${expected}`);
        }
      }
    }],
    ["a shape that does not match the data is a RangeError and the buffer is unchanged", (gc) => {
      const grad = new Float32Array([1, 2, 3, 4, 5, 6]);
      assertThrows(() => gc.centralize(grad, [4, 2]), RangeError, /^centralize: shape \[4, 2\]/, "shape [4, 2]");
      assertSame(grad, [1, 2, 3, 4, 5, 6], "grad after the rejected call");
    }],
    ["an unknown layout is a RangeError naming the option and the buffer is unchanged", (gc) => {
      const grad = new Float32Array([1, 2, 3, 4, 5, 6]);
      assertThrows(() => gc.centralize(grad, [2, 3], { layout: "rows" }), RangeError, /options\.layout/, "layout: rows");
      assertSame(grad, [1, 2, 3, 4, 5, 6], "grad after the rejected call");
    }],
    ["a plain array instead of a Float32Array is a TypeError naming the argument", (gc) => {
      assertThrows(() => gc.centralize([1, 2, 3, 4], [2, 2]), TypeError, /^centralize: grad/, "plain array");
    }],
  );
  for (const t of fixtures.optimizer) {
    list.push([`optimizer trajectory: ${t.name}`, (gc) => {
      const params = t.params.map((p) => ({ value: Float32Array.from(p.value), grad: new Float32Array(p.value.length), shape: p.shape }));
      const opt = new gc[t.optimizer](params, t.options);
      try {
        for (const grads of t.grads) {
          params.forEach((p, i) => p.grad.set(grads[i]));
          opt.step();
        }
      } finally {
        opt.dispose?.();
      }
      params.forEach((p, i) => {
        for (let j = 0; j < p.value.length; j++) {
          const bound = t.atol + t.rtol * Math.abs(t.expected[i][j]);
          const diff = Math.abs(p.value[j] - t.expected[i][j]);
          assert(diff <= bound, `param ${i} [${p.shape}] value ${j}: |${p.value[j]} − ${t.expected[i][j]}| = ${diff} > ${bound}`);
        }
      });
    }]);
  }
  list.push(["shutdown() stops the workers (threads build: backend() is then simd); a no-op otherwise", (gc, build) => {
    const before = gc.backend();
    gc.shutdown();
    const expected = before === "simd-threads" ? "simd" : before;
    assert(gc.backend() === expected, `backend() after shutdown() is ${gc.backend()}, expected ${expected}`);
    const grad = gc.centralize(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    assertSame(grad, [-1, 0, 1, -1, 0, 1], "centralize after shutdown()");
    void build;
  }]);
  return list;
}

/** Number of checks the suite runs on these fixtures (a harness compares it with what ran). */
export function checkCount(fixtures) {
  return checks(fixtures, "init").length;
}

/**
 * Runs every check in order on a fresh, uninitialized instance of the package.
 * @returns { passed, failed, failures: ["check: message"] }
 */
export async function runSuite(gc, fixtures, build, loader = "init") {
  if (build !== "simd" && build !== "scalar" && build !== "threads") throw new Error(`build must be "simd", "scalar" or "threads", got ${build}`);
  if (loader !== "init" && loader !== "initSync") throw new Error(`loader must be "init" or "initSync", got ${loader}`);
  const result = { passed: 0, failed: 0, failures: [], backend: undefined };
  for (const [name, check] of checks(fixtures, loader)) {
    try {
      await check(gc, build);
      if (result.backend === undefined) {
        try {
          result.backend = gc.backend();
        } catch {
          // not initialized yet
        }
      }
      result.passed++;
    } catch (error) {
      result.failed++;
      result.failures.push(`${name}: ${error?.stack ?? error}`);
    }
  }
  return result;
}

/** The line each runtime prints, e.g. "node-esm simd: 20 passed, 0 failed". */
export function resultLine(runtime, build, { passed, failed }) {
  return `${runtime} ${build}: ${passed} passed, ${failed} failed`;
}

/**
 * What a harness prints: the result line, one line per failure, then one machine-readable line
 * "RESULT {json}" with the runtime's version and the entry file the package resolved to.
 */
export function report(runtime, build, version, entry, result) {
  return [
    resultLine(runtime, build, result),
    ...result.failures.map((failure) => `  FAILED ${failure}`),
    `RESULT ${JSON.stringify({ runtime, build, version, entry, ...result })}`,
  ].join("\n");
}
