export * from './node.js';
export * from './errors.js';
export type { GradientMode, OnnxFlow, OnnxFlowOptions, OnnxLogger, OrtLike } from './onnx-flow.js';
export type { ResolvedInterface, ModelInterface, ModelValue } from './model-io.js';
export { decodeModel, modelInterface } from './model-io.js';
export {
  OnnxAutodiffError,
  buildVjpModel,
  supportedOperators,
  unsupportedOperators,
} from './autodiff/index.js';
