// The save → load → continue loop run inside the page of tests/tfjs/browser-server.ts, through a
// browser storage URL (`localstorage://…`, `indexeddb://…`). Passed to `page.evaluate`, so it is
// self-contained: it uses only its argument and the page's `window.tf` / `window.gct`.
import type * as TF from "@tensorflow/tfjs";

/** What the page needs: the storage URL, the model kind, the optimizer as an expression of `tf` and `gct`, the data. */
export interface BrowserRoundTrip {
  url: string;
  kind: "mlp" | "conv";
  /** e.g. `"gct.train.adam(1e-2)"`: evaluated in the page with `tf` and `gct` in scope. */
  optimizer: string;
  images: number[];
  labels: number[];
  batch: number;
  /** Steps before the save and after the load. */
  before: number;
  after: number;
}

/** Weights of the uninterrupted run and of the saved → loaded → continued one, plus what was stored. */
export interface BrowserRoundTripResult {
  uninterrupted: number[][];
  continued: number[][];
  className: string;
  loadedClassName: string;
  /** The loaded optimizer's `engineKind` (this package's optimizers), after its steps. */
  engineKind: string | undefined;
  /** The last step's Δw of the continued run (for the unit-mean check), and the weights' shapes. */
  lastBefore: number[][];
  shapes: number[][];
  storedModels: string[];
}

/** Runs in the page. */
export async function browserRoundTrip(args: BrowserRoundTrip): Promise<BrowserRoundTripResult> {
  const { tf, gct } = window as unknown as { tf: typeof TF; gct: unknown };
  const makeOptimizer = new Function("tf", "gct", `return ${args.optimizer};`) as (tf: unknown, gct: unknown) => TF.Optimizer;
  const build = () => {
    const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
    const bias = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.05, seed: 7 });
    const model = tf.sequential();
    if (args.kind === "mlp") {
      model.add(tf.layers.dense({ inputShape: [64], units: 32, activation: "relu", kernelInitializer: seeded(1), biasInitializer: bias() }));
    } else {
      model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: "relu", kernelInitializer: seeded(2), biasInitializer: bias() }));
      model.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: "relu", kernelInitializer: seeded(3), biasInitializer: bias() }));
      model.add(tf.layers.flatten());
    }
    model.add(tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: seeded(4), biasInitializer: bias() }));
    model.compile({ optimizer: makeOptimizer(tf, gct), loss: "categoricalCrossentropy" });
    return model;
  };
  const count = args.labels.length / args.batch;
  const batches = [...Array(count).keys()].map((b) => {
    const pixels = args.images.slice(b * args.batch * 64, (b + 1) * args.batch * 64);
    const x = args.kind === "mlp" ? tf.tensor2d(pixels, [args.batch, 64]) : tf.tensor4d(pixels, [args.batch, 8, 8, 1]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(args.labels.slice(b * args.batch, (b + 1) * args.batch), "int32"), 10));
    return { x, y };
  });
  const train = async (model: TF.LayersModel, from: number, to: number) => {
    for (let step = from; step < to; step++) await model.trainOnBatch(batches[step % count].x, batches[step % count].y);
  };
  const values = (model: TF.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

  const uninterrupted = build();
  await train(uninterrupted, 0, args.before + args.after);
  const saved = build();
  await train(saved, 0, args.before);
  await saved.save(args.url, { includeOptimizer: true });
  const loaded = await tf.loadLayersModel(args.url);
  await train(loaded, args.before, args.before + args.after - 1);
  const lastBefore = values(loaded);
  await train(loaded, args.before + args.after - 1, args.before + args.after);
  const result: BrowserRoundTripResult = {
    uninterrupted: values(uninterrupted),
    continued: values(loaded),
    className: saved.optimizer.getClassName(),
    loadedClassName: loaded.optimizer.getClassName(),
    engineKind: (loaded.optimizer as unknown as { engineKind?: string }).engineKind,
    lastBefore,
    shapes: loaded.getWeights().map((w) => w.shape),
    storedModels: Object.keys(await tf.io.listModels()),
  };
  await tf.io.removeModel(args.url);
  for (const model of [uninterrupted, saved, loaded]) {
    model.optimizer.dispose();
    model.dispose();
  }
  tf.dispose(batches.flatMap(({ x, y }) => [x, y]));
  return result;
}
