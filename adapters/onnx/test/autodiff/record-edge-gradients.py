"""Records the expected gradients of edge-values.test.ts from PyTorch autograd, in float64.

Run with Debian's PyTorch (torch 1.13): /usr/bin/python3 record-edge-gradients.py
It prints one line per case, `name: [gradient]`, in the order of the test's table; paste the
gradients into the table's `expected` fields. The sign of a zero is printed but not compared.
"""

import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def show(values):
    def one(v):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return repr(v)

    return "[" + ", ".join(one(v) for v in values) + "]"


def grad(f, inputs, wrt, cotangent):
    tensors = [torch.tensor(x, requires_grad=(i == wrt)) for i, x in enumerate(inputs)]
    f(*tensors).backward(torch.tensor(cotangent))
    return tensors[wrt].grad.tolist()


Z = [0.0, -0.0, 0.25, -4.0]
DZ = [1.5, -1.0, 1.0, 2.0]
BASE = [0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, 2.0, -2.0, 0.0]
EXPONENT = [0.0, 1.0, 2.0, 0.5, -1.0, -1.0, 2.0, 0.0, 0.5, -2.5]
ONES = [1.0] * len(BASE)
INT_BASE = [0.0, 0.0, 0.0, 0.0, -0.0, -1.5, 1.5, -1.5]
INT_EXPONENT = [0, 1, 2, 3, 0, 0, 2, 3]
A, B, DM = [1.0, 0.0, -0.0, 2.0], [1.0, -0.0, 0.0, 3.0], [2.0, 1.0, -1.0, 1.0]
ZE, CE, DE = [0.0, -0.0, 1.0, 0.5, 2.0], [0.0, 0.0, 1.0, 2.0, 2.0], [1.0, 1.0, -1.0, 1.0, 0.5]

cases = [
    ("Abs", lambda z: torch.abs(z), [Z], 0, DZ),
    ("Relu", lambda z: torch.relu(z), [Z], 0, DZ),
    ("Sqrt", lambda z: torch.sqrt(z), [Z], 0, DZ),
    ("Log", lambda z: torch.log(z), [Z], 0, DZ),
    ("LeakyRelu", lambda z: F.leaky_relu(z, 0.2), [Z], 0, DZ),
    ("Elu", lambda z: F.elu(z, 0.7), [Z], 0, DZ),
    ("Softplus", lambda z: F.softplus(z), [Z], 0, DZ),
    ("Clip", lambda z: torch.clamp(z, -0.5, 0.4), [[-0.5, 0.4, 0.0, 1.0]], 0, DZ),
    ("Pow base", torch.pow, [BASE, EXPONENT], 0, ONES),
    ("Pow exponent", torch.pow, [BASE, EXPONENT], 1, ONES),
    (
        "Pow integer exponent",
        lambda b: torch.pow(b, torch.tensor(INT_EXPONENT)),
        [INT_BASE],
        0,
        [1.0] * len(INT_BASE),
    ),
    ("Max a", torch.maximum, [A, B], 0, DM),
    ("Max b", torch.maximum, [A, B], 1, DM),
    ("Min a", torch.minimum, [A, B], 0, DM),
    ("Min b", torch.minimum, [A, B], 1, DM),
    (
        "Equal mask",
        lambda z, c: torch.where(z == c, z.exp(), z * z) + (z == c).double() * z,
        [ZE, CE],
        0,
        DE,
    ),
]

print(f"torch {torch.__version__}")
for name, f, inputs, wrt, cotangent in cases:
    print(f"{name}: {show(grad(f, inputs, wrt, cotangent))}")
