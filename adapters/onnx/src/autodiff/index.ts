export { buildVjpModel, unsupportedOperators, supportedOperators, MIN_OPSET } from './build-vjp.js';
export type { VjpOptions } from './build-vjp.js';
export { OnnxAutodiffError } from './errors.js';
export type { OnnxAutodiffErrorCode, UnsupportedOperator } from './errors.js';
export { inferRanks } from './rank-inference.js';
