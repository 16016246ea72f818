export * from './finite-difference-flow.js';
