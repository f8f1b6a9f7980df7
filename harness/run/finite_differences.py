"""A third oracle for gradients: central finite differences in float64, computed with PyTorch.

When the engine and PyTorch disagree on a leaf's `.grad` right after a `backward` statement, the
harness rebuilds the scalar that statement differentiated (`E.backward()` is d(E)/dx, and
`E.backward(G)` is d(sum(E * G))/dx) as a function of the leaf, by re-running the program's earlier
statements in float64, and differentiates it numerically. The verdict says which side the numbers
support. The same function serves `gradcheck: true` specs, which ask PyTorch's own
`torch.autograd.gradcheck` to vouch for its analytic gradient at the drawn points.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import warnings
from collections.abc import Callable

import numpy as np

from harness.run.backends import Backend
from harness.spec import Spec
from harness.spec import program as programs

STEP = 1e-6
MAX_ELEMENTS = 64  # finite differences cost two program runs per element
AGREE = (1e-3, 1e-4)  # (rtol, atol): a float32 analytic grad against a float64 numeric one


def backward_target(statement: programs.Statement) -> tuple[str, str | None] | None:
    """(E, G) source texts if the statement is `E.backward(...)`, else None."""
    node = ast.parse(statement.source).body[0]
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "backward"):
        return None
    gradient = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg == "gradient"), None)
    return ast.unparse(call.func.value), ast.unparse(gradient) if gradient is not None else None


def scalar_function(spec: Spec, torch: Backend, line: int, inputs: dict[str, np.ndarray],
                    wrt: str) -> Callable | None:
    """f(t) = the scalar the backward at `line` differentiates, with input `wrt` set to t."""
    statement = next((s for s in spec.program.statements if s.line == line), None)
    target = backward_target(statement) if statement else None
    if target is None:
        return None
    expr, gradient = target
    before = [s for s in spec.program.statements if s.line < line]
    requires_grad = {n: d.requires_grad for n, d in spec.model.inputs.items()}
    module = torch.module

    def f(leaf):
        namespace = programs.namespace(module, torch.functional)
        for name, array in inputs.items():
            if not isinstance(array, np.ndarray):  # a symbolic dim's size
                namespace[name] = array
                continue
            value = module.tensor(array.astype(np.float64) if array.dtype.kind == "f" else array,
                                  requires_grad=requires_grad[name] and name != wrt)
            namespace[name] = value
        namespace[wrt] = leaf
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in before:
                try:
                    exec(s.code, namespace)
                except Exception:
                    if s.line not in {r.line for r in spec.model.raises}:
                        raise
            out = eval(expr, namespace)  # noqa: S307 - the program passed the allow-list
            if gradient is not None:
                out = out * eval(gradient, namespace)  # noqa: S307
        return out.double().sum()

    return f


def finite_difference_grad(f: Callable, module, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of f at x (float64) for up to MAX_ELEMENTS elements: (indices, grad)."""
    base = x.astype(np.float64)
    flat = np.arange(base.size)[:MAX_ELEMENTS]
    grad = np.empty(len(flat))
    with module.no_grad():
        for k, i in enumerate(flat):
            index = np.unravel_index(i, base.shape)
            up, down = base.copy(), base.copy()
            up[index] += STEP
            down[index] -= STEP
            grad[k] = (float(f(module.tensor(up))) - float(f(module.tensor(down)))) / (2 * STEP)
    return flat, grad


def verdict(spec: Spec, torch: Backend, line: int, inputs: dict[str, np.ndarray], wrt: str,
            torch_grad: np.ndarray, engine_grad: np.ndarray) -> str | None:
    """Which side finite differences support, as one sentence; None if they cannot tell."""
    f = scalar_function(spec, torch, line, inputs, wrt)
    if f is None or wrt not in inputs or inputs[wrt].dtype.kind != "f":
        return None
    try:
        flat, numeric = finite_difference_grad(f, torch.module, inputs[wrt])
    except Exception:
        return None
    t = torch_grad.reshape(-1)[flat].astype(np.float64)
    e = engine_grad.reshape(-1)[flat].astype(np.float64)
    rtol, atol = AGREE
    torch_ok = bool(np.allclose(t, numeric, rtol=rtol, atol=atol, equal_nan=True))
    engine_ok = bool(np.allclose(e, numeric, rtol=rtol, atol=atol, equal_nan=True))
    sides = {(True, False): "PyTorch", (False, True): "the engine", (True, True): "both sides",
             (False, False): "neither side"}[(torch_ok, engine_ok)]
    return (f"finite differences (float64, h={STEP:g}) support {sides}: "
            f"max |fd - torch| {np.max(np.abs(numeric - t)):.3g}, "
            f"max |fd - engine| {np.max(np.abs(numeric - e)):.3g}")


def gradcheck_problem(spec: Spec, torch: Backend, inputs: dict[str, np.ndarray]) -> str | None:
    """Run torch.autograd.gradcheck for every backward statement and leaf input; say what fails."""
    module = torch.module
    leaves = [n for n, d in spec.model.inputs.items() if d.requires_grad]
    for statement in spec.program.statements:
        if backward_target(statement) is None:
            continue
        for name in leaves:
            f = scalar_function(spec, torch, statement.line, inputs, name)
            x = module.tensor(inputs[name].astype(np.float64), requires_grad=True)
            try:
                module.autograd.gradcheck(f, (x,), eps=STEP, atol=1e-5, rtol=1e-3)
            except importlib.import_module("torch.autograd.gradcheck").GradcheckError as exc:
                first = str(exc).strip().splitlines()[0]
                return (f"gradcheck: PyTorch's gradient of line {statement.line} with respect "
                        f"to {name} disagrees with finite differences ({first})")
    return None
