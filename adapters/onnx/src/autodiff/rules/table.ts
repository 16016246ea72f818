/**
 * The rule table: one entry per operator of the default ONNX domain. To support another
 * operator, add a rule to one of the rule files (or a new one) and spread it in here.
 */

import { convRules } from './conv.js';
import { elementwiseRules, nonDifferentiableOperators } from './elementwise.js';
import { linearRules } from './linear.js';
import { reduceRules } from './reduce.js';
import type { OperatorRule } from './rule.js';
import { shapeRules } from './shape.js';

/** Every operator the autodiff handles, differentiable or not, keyed by operator type. */
export const ruleTable: Readonly<Record<string, OperatorRule>> = {
  ...Object.fromEntries(
    nonDifferentiableOperators.map((op): [string, OperatorRule] => [
      op,
      { nonDifferentiable: true },
    ]),
  ),
  ...elementwiseRules,
  ...shapeRules,
  ...linearRules,
  ...convRules,
  ...reduceRules,
};

/** The rule for a node's operator, or undefined when none (including non-default domains). */
export function ruleFor(opType: string, domain: string): OperatorRule | undefined {
  if (domain !== '' && domain !== 'ai.onnx') return undefined;
  return Object.prototype.hasOwnProperty.call(ruleTable, opType) ? ruleTable[opType] : undefined;
}
