export * from './errors.js';
export type { TfjsFlow, TfjsFlowOptions, TfjsLogger } from './tfjs-flow.js';
export type { ModelIo } from './model-io.js';
export * from './graph-model.js';
export * from './layers-model.js';
export * from './function-flow.js';
export * from './backend.js';
export { registerGradients } from './gradients/register-gradients.js';
export {
  type UnsupportedFusedActivation,
  splitFusedActivations,
  unsupportedFusedActivations,
} from './fused-activations.js';
