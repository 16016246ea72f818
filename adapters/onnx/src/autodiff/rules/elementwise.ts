/**
 * Gradient rules of element-wise operators: unary functions, broadcasting arithmetic, `Where`,
 * variadic `Sum`/`Mean`/`Max`/`Min`, and the operators whose outputs carry no gradient.
 *
 * Broadcast inputs get their gradient through `GradientBuilder.reduceTo`. Where a function has a
 * kink (Relu, Abs, Clip, Max), the rule follows PyTorch's convention at the kink, so that a
 * VJP here matches `torch.autograd` on the model that was exported.
 */

import type { GradientBuilder } from '../graph-builder.js';
import type { GradientRule, NodeView, OperatorRule } from './rule.js';

/** A rule for `y = f(x)` with one differentiable input: `dx = g(x, y, dy)`. */
function unary(
  gradient: (b: GradientBuilder, x: string, y: string, dy: string, node: NodeView) => string,
): OperatorRule {
  return { vjp: (node, b, [dy]) => [gradient(b, node.input(0), node.output(0), dy!, node)] };
}

/** `dy` where `x > 0`, `otherwise` elsewhere. */
function wherePositive(b: GradientBuilder, x: string, dy: string, otherwise: string): string {
  return b.op('Where', [b.op('Greater', [x, b.scalar(0, x)]), dy, otherwise]);
}

/** `dy / sqrt(s)`, shared by the inverse trigonometric rules. */
function overSqrt(b: GradientBuilder, dy: string, s: string): string {
  return b.div(dy, b.op('Sqrt', [s]));
}

/** `x * x`. */
function square(b: GradientBuilder, x: string): string {
  return b.mul(x, x);
}

const add: GradientRule = (node, b, [dy]) => [
  node.needs(0) ? b.reduceTo(dy!, node.input(0)) : null,
  node.needs(1) ? b.reduceTo(dy!, node.input(1)) : null,
];

const sub: GradientRule = (node, b, [dy]) => [
  node.needs(0) ? b.reduceTo(dy!, node.input(0)) : null,
  node.needs(1) ? b.neg(b.reduceTo(dy!, node.input(1))) : null,
];

const mul: GradientRule = (node, b, [dy]) => {
  const [x0, x1] = [node.input(0), node.input(1)];
  return [
    node.needs(0) ? b.reduceTo(b.mul(dy!, x1), x0) : null,
    node.needs(1) ? b.reduceTo(b.mul(dy!, x0), x1) : null,
  ];
};

// y = a / b: da = dy / b, db = -dy * a / b^2 = -dy * y / b.
const div: GradientRule = (node, b, [dy]) => {
  const [x0, x1, y] = [node.input(0), node.input(1), node.output(0)];
  return [
    node.needs(0) ? b.reduceTo(b.div(dy!, x1), x0) : null,
    node.needs(1) ? b.neg(b.reduceTo(b.div(b.mul(dy!, y), x1), x1)) : null,
  ];
};

// y = a ^ e: da = dy * e * a^(e - 1), de = dy * y * log(a), masked as PyTorch's pow_backward
// masks them: da = 0 where e = 0 (else 0 * 0^-1 = NaN at a = 0), and de = 0 where a = 0 and
// e >= 0 (the limit of a^e log a as a -> 0+); where a = 0 and e < 0, de = y log(a) = -inf.
const pow: GradientRule = (node, b, [dy]) => {
  const [base, exponent, y] = [node.input(0), node.input(1), node.output(0)];
  let da: string | null = null;
  let de: string | null = null;
  if (node.needs(0)) {
    const e = b.dtype(exponent) === b.dtype(base) ? exponent : b.castLike(exponent, base);
    const power = b.op('Pow', [base, b.sub(e, b.scalar(1, e))]);
    const constantAtZero = b.op('Equal', [e, b.scalar(0, e)]);
    const g = b.op('Where', [constantAtZero, b.scalar(0, dy!), b.mul(dy!, b.mul(e, power))]);
    da = b.reduceTo(g, base);
  }
  if (node.needs(1)) {
    const zero = b.scalar(0, y);
    const atZero = b.op('And', [
      b.op('Equal', [base, b.scalar(0, base)]),
      b.op('GreaterOrEqual', [exponent, b.scalar(0, exponent)]),
    ]);
    const log = b.op('Where', [atZero, zero, b.mul(y, b.op('Log', [base]))]);
    let g = b.mul(dy!, log);
    if (b.dtype(exponent) !== b.dtype(g)) g = b.castLike(g, exponent);
    de = b.reduceTo(g, exponent);
  }
  return [da, de];
};

// Variadic Sum: every input gets dy, reduced to its shape.
const sum: GradientRule = (node, b, [dy]) =>
  Array.from({ length: node.inputCount }, (_, i) =>
    node.needs(i) ? b.reduceTo(dy!, node.input(i)) : null,
  );

const mean: GradientRule = (node, b, [dy]) => {
  const scaled = b.div(dy!, b.scalar(node.inputCount, dy!));
  return Array.from({ length: node.inputCount }, (_, i) =>
    node.needs(i) ? b.reduceTo(scaled, node.input(i)) : null,
  );
};

// Max/Min: the gradient goes to the inputs equal to the result, split evenly between ties, as
// PyTorch does for binary maximum/minimum.
const extremum: GradientRule = (node, b, [dy]) => {
  const y = node.output(0);
  if (node.inputCount === 1) return [dy];
  const masks = Array.from({ length: node.inputCount }, (_, i) =>
    b.castLike(b.op('Equal', [node.input(i), y]), y),
  );
  const count = b.op('Sum', masks);
  const share = b.div(dy!, count);
  return masks.map((mask, i) =>
    node.needs(i) ? b.reduceTo(b.mul(share, mask), node.input(i)) : null,
  );
};

const where: GradientRule = (node, b, [dy]) => {
  const [condition, a, c] = [node.input(0), node.input(1), node.input(2)];
  const zero = b.scalar(0, dy!);
  return [
    null,
    node.needs(1) ? b.reduceTo(b.op('Where', [condition, dy!, zero]), a) : null,
    node.needs(2) ? b.reduceTo(b.op('Where', [condition, zero, dy!]), c) : null,
  ];
};

// Clip(x, min, max): dx = dy where min <= x <= max (PyTorch clamp); dmin where x < min, dmax where
// x > max.
const clip: GradientRule = (node, b, [dy]) => {
  const x = node.input(0);
  const zero = b.scalar(0, dy!);
  let inside: string | null = null;
  if (node.has(1)) inside = b.op('Not', [b.op('Less', [x, node.input(1)])]);
  if (node.has(2)) {
    const below = b.op('Not', [b.op('Greater', [x, node.input(2)])]);
    inside = inside ? b.op('And', [inside, below]) : below;
  }
  const dx = inside ? b.op('Where', [inside, dy!, zero]) : dy!;
  const bound = (i: number, compare: string): string | null => {
    if (!node.needs(i)) return null;
    const outside = b.op(compare, [x, node.input(i)]);
    return b.reduceTo(b.op('Where', [outside, dy!, zero]), node.input(i));
  };
  return [node.needs(0) ? dx : null, bound(1, 'Less'), bound(2, 'Greater')];
};

// Softmax at opset >= 13 normalises along one axis: dx = y * (dy - sum(dy * y, axis)).
const softmax: GradientRule = (node, b, [dy]) => {
  const y = node.output(0);
  const axes = b.int64([node.int('axis', -1)]);
  const dot = b.op('ReduceSum', [b.mul(dy!, y), axes], { keepdims: 1 });
  return [b.mul(y, b.sub(dy!, dot))];
};

// LogSoftmax: dx = dy - exp(y) * sum(dy, axis).
const logSoftmax: GradientRule = (node, b, [dy]) => {
  const y = node.output(0);
  const total = b.op('ReduceSum', [dy!, b.int64([node.int('axis', -1)])], { keepdims: 1 });
  return [b.sub(dy!, b.mul(b.op('Exp', [y]), total))];
};

// PRelu(x, slope) = x if x > 0 else slope * x, slope broadcast to x.
const prelu: GradientRule = (node, b, [dy]) => {
  const [x, slope] = [node.input(0), node.input(1)];
  const positive = b.op('Greater', [x, b.scalar(0, x)]);
  const zero = b.scalar(0, dy!);
  return [
    node.needs(0) ? b.op('Where', [positive, dy!, b.mul(dy!, slope)]) : null,
    node.needs(1) ? b.reduceTo(b.op('Where', [positive, zero, b.mul(dy!, x)]), slope) : null,
  ];
};

const SELU_ALPHA = 1.6732632423543772;
const SELU_GAMMA = 1.0507009873554805;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Rules of element-wise operators, keyed by operator type. */
export const elementwiseRules: Readonly<Record<string, OperatorRule>> = {
  Identity: unary((_b, _x, _y, dy) => dy),
  Neg: unary((b, _x, _y, dy) => b.neg(dy)),
  Exp: unary((b, _x, y, dy) => b.mul(dy, y)),
  Log: unary((b, x, _y, dy) => b.div(dy, x)),
  Sqrt: unary((b, _x, y, dy) => b.div(dy, b.mul(y, b.scalar(2, y)))),
  Reciprocal: unary((b, _x, y, dy) => b.neg(b.mul(dy, b.mul(y, y)))),
  Abs: unary((b, x, _y, dy) => b.mul(dy, b.op('Sign', [x]))),
  Tanh: unary((b, _x, y, dy) => b.mul(dy, b.sub(b.scalar(1, y), b.mul(y, y)))),
  Sigmoid: unary((b, _x, y, dy) => b.mul(dy, b.mul(y, b.sub(b.scalar(1, y), y)))),
  // Relu: dx = dy * [y > 0], a mask multiply on the output as PyTorch's threshold_backward reads
  // it; cheaper in ONNX Runtime than Where. Unlike Where, an infinite or NaN dy where y = 0 gives
  // NaN instead of 0; finite cotangents give the same values.
  Relu: unary((b, _x, y, dy) => b.mul(dy, b.castLike(b.op('Greater', [y, b.scalar(0, y)]), dy))),
  LeakyRelu: unary((b, x, _y, dy, node) =>
    wherePositive(b, x, dy, b.mul(dy, b.scalar(node.float('alpha', 0.01), dy))),
  ),
  // Elu: for x <= 0, y = alpha (e^x - 1), so dy/dx = y + alpha.
  Elu: unary((b, x, y, dy, node) =>
    wherePositive(b, x, dy, b.mul(dy, b.add(y, b.scalar(node.float('alpha', 1), y)))),
  ),
  Selu: unary((b, x, y, dy, node) => {
    const gamma = node.float('gamma', SELU_GAMMA);
    const alpha = node.float('alpha', SELU_ALPHA);
    const negative = b.mul(dy, b.add(y, b.scalar(gamma * alpha, y)));
    return wherePositive(b, x, b.mul(dy, b.scalar(gamma, dy)), negative);
  }),
  Softplus: unary((b, x, _y, dy) => b.mul(dy, b.op('Sigmoid', [x]))),
  Softsign: unary((b, x, _y, dy) => {
    const d = b.add(b.scalar(1, x), b.op('Abs', [x]));
    return b.div(dy, b.mul(d, d));
  }),
  Erf: unary((b, x, _y, dy) => {
    const gauss = b.op('Exp', [b.neg(square(b, x))]);
    return b.mul(dy, b.mul(gauss, b.scalar(TWO_OVER_SQRT_PI, x)));
  }),
  Sin: unary((b, x, _y, dy) => b.mul(dy, b.op('Cos', [x]))),
  Cos: unary((b, x, _y, dy) => b.neg(b.mul(dy, b.op('Sin', [x])))),
  Tan: unary((b, _x, y, dy) => b.mul(dy, b.add(b.scalar(1, y), square(b, y)))),
  Asin: unary((b, x, _y, dy) => overSqrt(b, dy, b.sub(b.scalar(1, x), square(b, x)))),
  Acos: unary((b, x, _y, dy) => b.neg(overSqrt(b, dy, b.sub(b.scalar(1, x), square(b, x))))),
  Atan: unary((b, x, _y, dy) => b.div(dy, b.add(b.scalar(1, x), square(b, x)))),
  Sinh: unary((b, x, _y, dy) => b.mul(dy, b.op('Cosh', [x]))),
  Cosh: unary((b, x, _y, dy) => b.mul(dy, b.op('Sinh', [x]))),
  Asinh: unary((b, x, _y, dy) => overSqrt(b, dy, b.add(square(b, x), b.scalar(1, x)))),
  Acosh: unary((b, x, _y, dy) => overSqrt(b, dy, b.sub(square(b, x), b.scalar(1, x)))),
  Atanh: unary((b, x, _y, dy) => b.div(dy, b.sub(b.scalar(1, x), square(b, x)))),
  // HardSigmoid: y = clip(alpha x + beta, 0, 1); the slope is alpha where 0 < y < 1.
  HardSigmoid: unary((b, _x, y, dy, node) => {
    const inside = b.op('And', [
      b.op('Greater', [y, b.scalar(0, y)]),
      b.op('Less', [y, b.scalar(1, y)]),
    ]);
    const slope = b.mul(dy, b.scalar(node.float('alpha', 0.2), dy));
    return b.op('Where', [inside, slope, b.scalar(0, dy)]);
  }),
  // Cast between floating-point types: the gradient is cast back.
  Cast: unary((b, x, _y, dy) => b.op('Cast', [dy], { to: b.dtype(x) })),
  // Inference-mode Dropout is the identity; a model exported in training mode is not supported.
  Dropout: {
    vjp: (_node, _b, [dy]) => [dy, null, null],
    check: (node, ctx) =>
      node.has(2) && ctx.numbersOf(node.input(2))?.[0] !== 0
        ? 'training_mode may be true (random mask); export the model in eval mode'
        : null,
  },
  Softmax: { vjp: softmax },
  LogSoftmax: { vjp: logSoftmax },
  Clip: { vjp: clip },
  PRelu: { vjp: prelu },
  Add: { vjp: add },
  Sub: { vjp: sub },
  Mul: { vjp: mul },
  Div: { vjp: div },
  Pow: { vjp: pow },
  Sum: { vjp: sum },
  Mean: { vjp: mean },
  Max: { vjp: extremum },
  Min: { vjp: extremum },
  Where: { vjp: where },
};

/**
 * Operators whose outputs never carry a gradient: integer or boolean results, constants, and
 * piecewise-constant functions (Floor, Sign...), whose derivative is zero almost everywhere.
 */
export const nonDifferentiableOperators: readonly string[] = `
  Shape Size Constant ConstantOfShape Range EyeLike Equal Less LessOrEqual Greater GreaterOrEqual
  Not And Or Xor IsNaN IsInf ArgMax ArgMin NonZero Floor Ceil Round Sign Hardmax RandomNormal
  RandomNormalLike RandomUniform RandomUniformLike Bernoulli Multinomial BitShift BitwiseAnd
  BitwiseOr BitwiseXor BitwiseNot
`
  .trim()
  .split(/\s+/);
