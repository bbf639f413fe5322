// The output-unit axes of every weight of a tf.LayersModel, read from the layer that owns it.
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { kindOf } from "../checks.js";
import type { UnitSpec } from "./unit-view.js";

/** What units.ts reads of a weight (a tfjs-layers LayerVariable). */
interface WeightLike {
  readonly name: string;
  readonly originalName?: string;
  readonly shape: readonly number[];
}

/** What units.ts reads of a layer, duck-typed: its class, its weights and the layers inside it. */
interface LayerLike {
  getClassName(): string;
  readonly weights?: readonly WeightLike[];
  readonly layers?: readonly LayerLike[]; // nested models (Sequential, functional)
  readonly layer?: LayerLike; // TimeDistributed, Wrapper
  readonly forwardLayer?: LayerLike; // Bidirectional
  readonly backwardLayer?: LayerLike;
  readonly cell?: LayerLike; // RNN, LSTM, GRU, SimpleRNN, ConvLSTM2D
  readonly cells?: readonly LayerLike[]; // StackedRNNCells
}

/** Weights that are never centralized, whatever their rank: scales, shifts and statistics. */
const NOT_KERNELS = new Set(["bias", "gamma", "beta", "moving_mean", "moving_variance", "alpha"]);

/**
 * The unit axes of one weight of a layer of class `className` (TF.js's layout of that layer):
 * - rank ≤ 1, biases, BatchNormalization/LayerNormalization gamma and beta, PReLU alpha: null (no GC);
 * - Conv2DTranspose, Conv3DTranspose `kernel` `[..., filters, in]`: axis rank − 2;
 * - DepthwiseConv2D and SeparableConv2D `depthwise_kernel` `[kh, kw, in, multiplier]`:
 *   `{ axis: rank − 2, span: 2 }` (each (in, multiplier) pair a unit, its mean over kh·kw);
 * - Embedding `embeddings` `[inputDim, outputDim]`: axis 0 (one unit per row, as PyTorch's
 *   `[num_embeddings, dim]`: a row that was not looked up has a zero gradient and stays zero);
 * - everything else of rank > 1 — Dense and Conv1D/2D/3D `kernel` `[..., in, out]`, SeparableConv2D
 *   `pointwise_kernel`, LSTM/GRU/SimpleRNN `kernel` and `recurrent_kernel` `[in, k·units]`,
 *   ConvLSTM2D kernels, and any unknown layer's weight: the last axis (TF.js's out-last default).
 *
 * @example
 * weightUnitSpec("Dense", "kernel", [784, 128]);                       // 1
 * weightUnitSpec("Conv2DTranspose", "kernel", [3, 3, 16, 8]);          // 2
 * weightUnitSpec("DepthwiseConv2D", "depthwise_kernel", [3, 3, 8, 2]); // { axis: 2, span: 2 }
 * weightUnitSpec("Embedding", "embeddings", [100, 16]);                // 0
 * weightUnitSpec("Dense", "bias", [128]);                              // null
 */
export function weightUnitSpec(className: string, role: string, shape: readonly number[]): UnitSpec | null {
  const rank = shape.length;
  if (rank <= 1 || NOT_KERNELS.has(role)) return null;
  if (role === "depthwise_kernel") return { axis: rank - 2, span: 2 };
  if (role === "embeddings" && className === "Embedding") return 0;
  if (role === "kernel" && (className === "Conv2DTranspose" || className === "Conv3DTranspose")) return rank - 2;
  return rank - 1;
}

/** The weight's role: the last part of its layer-scoped name (`dense_Dense1/kernel` → `kernel`). */
function roleOf(weight: WeightLike): string {
  const name = weight.originalName ?? weight.name;
  return name.slice(name.lastIndexOf("/") + 1).replace(/_\d+$/, "");
}

function isLayer(value: unknown): value is LayerLike {
  return value !== null && typeof value === "object" && typeof (value as LayerLike).getClassName === "function";
}

/** The layers directly inside `layer`: a nested model's layers, a wrapper's layer(s), an RNN's cell(s). */
function children(layer: LayerLike): LayerLike[] {
  const inner = [...(layer.layers ?? []), layer.layer, layer.forwardLayer, layer.backwardLayer, layer.cell, ...(layer.cells ?? [])];
  return inner.filter(isLayer);
}

/**
 * The output-unit axes of every weight of `model`, keyed by the weight's variable name (the
 * `tf.Variable` name, which is the key `model.fit` and `minimize` pass to `applyGradients`).
 * Each weight's axes come from the innermost layer that owns it (a Bidirectional LSTM's kernels
 * from its LSTMCells, a TimeDistributed Dense's from the Dense), by `weightUnitSpec`'s table;
 * null: not centralized. Values are non-negative: a number (one axis) or `{ axis, span }`
 * (consecutive axes merged into one unit index: DepthwiseConv2D). Throws a TypeError naming the
 * argument when `model` is not a tf.LayersModel (an object with `getClassName` and `layers`).
 *
 * @example
 * const model = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 100, outputDim: 8, inputLength: 4 }),
 *   tf.layers.flatten(), tf.layers.dense({ units: 3 })] });
 * layerUnitAxes(model);
 * // Map { "embedding_Embedding1/embeddings" => 0, "dense_Dense1/kernel" => 1, "dense_Dense1/bias" => null }
 */
export function layerUnitAxes(model: LayersModel): Map<string, UnitSpec | null> {
  if (!isLayer(model) || !Array.isArray((model as LayerLike).layers)) {
    throw new TypeError(`layerUnitAxes: model must be a tf.LayersModel, got ${kindOf(model)}`);
  }
  const axes = new Map<string, UnitSpec | null>();
  const visit = (layer: LayerLike, seen: Set<LayerLike>) => {
    if (seen.has(layer)) return;
    seen.add(layer);
    for (const child of children(layer)) visit(child, seen);
    const className = layer.getClassName();
    for (const weight of layer.weights ?? []) {
      if (!axes.has(weight.name)) axes.set(weight.name, weightUnitSpec(className, roleOf(weight), weight.shape));
    }
  };
  visit(model as LayerLike, new Set());
  return axes;
}
