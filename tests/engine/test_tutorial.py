"""The autograd tutorial's cells, run unchanged on torch and on the engine: printed output
and warnings must be identical (random tensors are replaced by fixed values)."""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
import torch
from engine_oracle import strip_torch_tail

import engine

FIXED = {  # what randn returns in these runs, in call order
    (5, 5): np.linspace(-2.6, 1.1, 25, dtype=np.float32).reshape(5, 5),
    (3,): np.array([0.0475, -0.6505, -1.0864], np.float32),
    (3, 3): np.linspace(-1, 1, 9, dtype=np.float32).reshape(3, 3),
}

CELLS = {
    "tensor": """
x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(type(y.grad_fn).__name__)
z = y * y * 3
out = z.mean()
print(z)
print(out)
a = torch.randn(5, 5, requires_grad=True)
print(a)
print(f"Sum of the values: {a.sum():.3f}")
""",
    "gradients": """
x = torch.ones(2, 2, requires_grad=True)
out = ((x + 2) * (x + 2) * 3).mean()
out.backward()
try:
    out.backward()
except RuntimeError as e:
    print(type(e).__name__, e)
print(x.grad)
""",
    "crazy things": """
x = torch.randn(3, requires_grad=True)
print(x)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
y.backward(gradients)
print(x.grad)
""",
    "retain_grad assignment": """
tensor = torch.randn(3, 3, requires_grad=True)
x = tensor * 2
sum_result = x.sum()
print("Gradients before backward pass:")
print("Gradient of tensor:", tensor.grad)
print("Gradient of x:", x.grad)
print("Gradient of sum_result:", sum_result.grad)
sum_result.retain_grad()
sum_result.backward()
print("\\nGradients after backward pass:")
print("Gradient of tensor:", tensor.grad)
print("Gradient of x:", x.grad)
print("Gradient of sum_result:", sum_result.grad)
""",
}


def _run(lib, source):
    def randn(*size, requires_grad=False):
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], tuple) else size
        return lib.tensor(FIXED[shape], requires_grad=requires_grad)

    namespace = {"torch": _Shim(lib, randn)}
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - our own cells
    return out.getvalue(), [(w.category.__name__, strip_torch_tail(str(w.message)), w.lineno)
                            for w in caught]


class _Shim:
    """The library, with randn swapped for fixed values."""

    def __init__(self, lib, randn):
        self._lib, self.randn = lib, randn

    def __getattr__(self, name):
        return getattr(self._lib, name)


@pytest.mark.parametrize("cell", CELLS)
def test_tutorial_cell_prints_the_same(cell):
    want = _run(torch, CELLS[cell])
    got = _run(engine, CELLS[cell])
    assert got[0] == want[0]
    assert got[1] == want[1]
