// The optimizers the example compares, behind one small interface: `create(params, gc)` returns
// an object with `step()`. This package's own SGD / Adam are used when the build exports them;
// until then a plain JS version of the same torch.optim rule with `centralize` stands in.
import * as gcPackage from "gradient-centralization";

/** The settings compared: torch.optim defaults apart from the learning rate and momentum. */
export const OPTIMIZERS = {
  sgd: { label: "SGD (momentum 0.9)", className: "SGD", options: { lr: 0.05, momentum: 0.9 } },
  adam: { label: "Adam", className: "Adam", options: { lr: 2e-3 } },
};

/** `"package"` when this build exports the optimizer classes, else `"plain JS + centralize"`. */
export function optimizerSource(kind) {
  return typeof gcPackage[OPTIMIZERS[kind].className] === "function" ? "package" : "plain JS + centralize";
}

/**
 * A `{ step() }` for `params` (`{ value, grad, shape }` Tensors, out-first), with GC applied to
 * the gradient (`gc: "gradient"`) or not at all (`gc: false`).
 */
export function createOptimizer(kind, params, gc) {
  const { className, options } = OPTIMIZERS[kind];
  const list = params.map(({ value, grad, shape }) => ({ value, grad, shape }));
  const Optimizer = gcPackage[className];
  if (typeof Optimizer === "function") return new Optimizer(list, { ...options, gc, layout: "out-first" });
  return kind === "sgd" ? plainSgd(list, options, gc) : plainAdam(list, options, gc);
}

function centralizeGradient({ grad }, gc) {
  if (gc === "gradient") gcPackage.centralize(grad, { layout: "out-first" });
  return grad.data;
}

// torch.optim.SGD with momentum (dampening 0): b ← μ·b + g; p ← p − lr·b.
function plainSgd(params, { lr, momentum }, gc) {
  const buffers = params.map((p) => new Float32Array(p.value.size));
  return {
    step() {
      params.forEach((p, k) => {
        const g = centralizeGradient(p, gc);
        const w = p.value.data;
        const b = buffers[k];
        for (let i = 0; i < w.length; i++) {
          b[i] = momentum * b[i] + g[i];
          w[i] -= lr * b[i];
        }
      });
    },
  };
}

// torch.optim.Adam (β = 0.9, 0.999; ε = 1e-8): bias-corrected moments.
function plainAdam(params, { lr }, gc) {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const moments = params.map((p) => ({ m: new Float32Array(p.value.size), v: new Float32Array(p.value.size) }));
  let t = 0;
  return {
    step() {
      t++;
      const [c1, c2] = [1 - beta1 ** t, 1 - beta2 ** t];
      params.forEach((p, k) => {
        const g = centralizeGradient(p, gc);
        const w = p.value.data;
        const { m, v } = moments[k];
        for (let i = 0; i < w.length; i++) {
          m[i] = beta1 * m[i] + (1 - beta1) * g[i];
          v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
          w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
      });
    },
  };
}
