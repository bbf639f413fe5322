/**
 * gradient-centralization/tfjs: Gradient Centralization for TensorFlow.js. The main entry never
 * imports TF.js; this one takes `@tensorflow/tfjs-core` as a peer.
 *
 * @example
 * import { withGradientCentralization } from "gradient-centralization/tfjs";
 * model.compile({ optimizer: withGradientCentralization(tf.train.adam(1e-3)), loss: "categoricalCrossentropy" });
 * @module
 */
export { centralizeTensor, withGradientCentralization, type TfjsGcOptions, type VariableGradients } from "./wrap.js";
