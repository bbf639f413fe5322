// The memory limit the kernels are measured against: SIMD passes that touch the same bytes
// with (almost) no arithmetic. `factor` is 1 at run time, so the compiler cannot drop the work.

/** x[i] ← x[i] · factor: one read and one write of every value. */
export function scalePass(ptr: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = ptr + (<usize>i << 2);
    v128.store(p, f32x4.mul(v128.load(p), f));
    v128.store(p, f32x4.mul(v128.load(p, 16), f), 16);
  }
  for (; i < n; i++) {
    const p = ptr + (<usize>i << 2);
    store<f32>(p, load<f32>(p) * factor);
  }
}

/**
 * The traffic of an Adam step: reads w, g, m, v and writes w, m, v
 * (w ← w·f, m ← m·f + g·(1 − f), v ← v·f + g·(1 − f)).
 */
export function adamPass(w: usize, g: usize, m: usize, v: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const h = f32x4.splat(1 - factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    v128.store(w + o, f32x4.mul(v128.load(w + o), f));
    v128.store(m + o, f32x4.add(f32x4.mul(v128.load(m + o), f), f32x4.mul(gv, h)));
    v128.store(v + o, f32x4.add(f32x4.mul(v128.load(v + o), f), f32x4.mul(gv, h)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, load<f32>(w + o) * factor);
  }
}

/** The traffic of a rule with one state buffer (SGD momentum, Adagrad, Lion, RMSprop): reads w, g, s and writes w, s. */
export function pass3(w: usize, g: usize, s: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const h = f32x4.splat(1 - factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gv = v128.load(g + o);
    v128.store(w + o, f32x4.mul(v128.load(w + o), f));
    v128.store(s + o, f32x4.add(f32x4.mul(v128.load(s + o), f), f32x4.mul(gv, h)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, load<f32>(w + o) * factor);
  }
}

/** The traffic of a rule with three state buffers (RMSprop centered with momentum): reads w, g, a, b, c and writes w, a, b, c. */
export function pass5(w: usize, g: usize, a: usize, b: usize, c: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const h = f32x4.splat(1 - factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gh = f32x4.mul(v128.load(g + o), h);
    v128.store(w + o, f32x4.mul(v128.load(w + o), f));
    v128.store(a + o, f32x4.add(f32x4.mul(v128.load(a + o), f), gh));
    v128.store(b + o, f32x4.add(f32x4.mul(v128.load(b + o), f), gh));
    v128.store(c + o, f32x4.add(f32x4.mul(v128.load(c + o), f), gh));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(w + o, load<f32>(w + o) * factor);
  }
}
