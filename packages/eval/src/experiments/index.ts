export * from './run-experiments.js';
export * from './sizes.js';
export type { McmcStatistics, MethodRun } from './methods.js';
export type { Scores, Spread } from './score.js';
export type {
  MethodResults,
  MethodSummary,
  MetricName,
  RunRecord,
  TargetResults,
} from './synthetic-experiment.js';
export type { DigitsMethodResults, DigitsResults, DigitsRun } from './digits-experiment.js';
