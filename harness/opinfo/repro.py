"""A failing OpInfo sample as something a person can act on: a standalone snippet that builds it
from literal values and runs it (on PyTorch, or on the engine by swapping the import), and a
ready-to-commit YAML spec that runs it on both through the ordinary spec harness.

The program calls the form that failed exactly as the checks did (an in-place form on a clone of
the input, an operator as its operator), then, for a backward failure, the same
vector-Jacobian product with the same cotangents (`checks.cotangents`), and for a double-backward
failure the same second product. No OpInfo import is needed: values are literals, and a lambda
from PyTorch's OpInfo database is copied in as source.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from harness.opinfo import checks
from harness.opinfo import samples as literals
from harness.opinfo.resolve import Form

#: Binary operators by the name of their `operator` function (and dunder, without the `__`).
_BINARY = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "floordiv": "//", "mod": "%",
           "pow": "**", "matmul": "@", "and": "&", "or": "|", "xor": "^", "lshift": "<<",
           "rshift": ">>", "lt": "<", "le": "<=", "eq": "==", "ne": "!=", "ge": ">=",
           "gt": ">", "div": "/"}
_UNARY = {"neg": "-", "pos": "+", "invert": "~"}
_SEED_WRAPPER = """def wrapper_set_seed(op, *args, **kwargs):
    torch.manual_seed(42)
    return op(*args, **kwargs)"""


@dataclass
class Program:
    lines: list[str]  # statements (a statement may span lines)
    raises: list[dict]  # {line, type, match} for statements PyTorch raises at
    complete: bool = True  # False: a lambda's source could not be recovered

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def program(ctx: checks.Context, sample: literals.Sample, form: Form,
            backward: str | None = None, contiguity: bool = False) -> Program:
    """The sample's program for `form`; `backward` adds the "vjp" or "gradgrad" products."""
    lines = literals.tensor_lines(sample)
    out = Program(lines, [])
    call_lines, complete = _call(form, sample)
    out.complete = complete
    lines += call_lines
    run = checks.call(form.torch_fn, sample, ctx.torch, form.inplace, ctx.resolution.seeded)
    if ctx.resolution.seeded:  # random ops: both backends draw from the same seed
        lines.insert(len(lines) - len(call_lines), f"torch.manual_seed({checks.SEED})")
    if run.error is not None:
        out.raises.append({"line": _line_of_last(lines), "type": type(run.error).__name__,
                           "match": re.escape(str(run.error).splitlines()[0])[:200]})
        return out
    result = "out"
    if sample.process is not None:
        source = literals.function_source(sample.process)
        if source is None:
            lines.append("# outputs go through OpInfo's output_process_fn_grad before backward "
                         "(its source could not be recovered)")
            out.complete = False
        else:
            lines += [f"process = {source}", "outs = process(out)"]
            result = "outs"
    if contiguity:
        tensors = [p for p, v in checks._flatten(run.out) if isinstance(v, ctx.torch.Tensor)]
        lines.append(f"contiguous = [{', '.join(f'{p}.is_contiguous()' for p in tensors)}]")
    if backward:
        _backward(ctx, sample, form, run, result, backward, lines)
    return out


def _line_of_last(lines: list[str]) -> int:
    """The program line where the last statement starts (statements may span lines)."""
    return sum(line.count("\n") + 1 for line in lines[:-1]) + 1


def _call(form: Form, sample: literals.Sample) -> tuple[list[str], bool]:
    """Statements that end with `out = <the call>`, and whether they are complete."""
    spelling, kind = form.spelling, form.kind
    rest = literals.arguments(sample, with_input=False)
    first = literals.expression(sample.input)
    if isinstance(form.torch_fn, functools.partial):  # torch.f(..., inplace=True)
        base, _, extra = spelling.partition("(..., ")
        return [f"out = {base}({literals.arguments(sample)}, {extra}"], True
    if spelling.startswith("lambda"):
        source = literals.function_source(form.torch_fn)
        if source is None:
            return [f"# op: {spelling}, a function of PyTorch's OpInfo database whose source "
                    "could not be recovered", f"out = op({literals.arguments(sample)})"], False
        lines = [_SEED_WRAPPER] if "wrapper_set_seed" in source else []
        return lines + [f"op = {source}", f"out = op({literals.arguments(sample)})"], True
    if spelling.startswith("operator."):
        name = spelling.removeprefix("operator.")
        inplace = form.inplace and name.startswith("i") and name[1:].rstrip("_") in _BINARY
        symbol = _BINARY.get(name[1:].rstrip("_") if inplace else name.rstrip("_"))
        if symbol and inplace:
            return ["x = " + f"{first}.clone()", f"x {symbol}= {rest}", "out = x"], True
        if symbol:
            return [f"out = {first} {symbol} {rest}"], True
        if name in _UNARY:
            return [f"out = {_UNARY[name]}{first}"], True
        if name == "getitem":
            return [f"out = {first}[{rest}]"], True
        return ["import operator", f"out = {spelling}({literals.arguments(sample)})"], True
    if spelling.startswith("Tensor."):
        name = spelling.removeprefix("Tensor.")
        dunder = re.fullmatch(r"__(r?)(\w+?)__", name)
        if dunder and isinstance(sample.input, literals.Ref | float | int | bool):
            reflected, op = dunder.groups()
            symbol = _BINARY.get(op)
            if symbol and reflected:  # Tensor.__rsub__(a, b) is b - a
                return [f"out = {rest} {symbol} {first}"], True
            if symbol:
                return [f"out = {first} {symbol} {rest}"], True
            if op in _UNARY:
                return [f"out = {_UNARY[op]}{first}"], True
            if op == "getitem":
                return [f"out = {first}[{rest}]"], True
        if not isinstance(sample.input, literals.Ref):
            return [f"out = torch.{spelling}({literals.arguments(sample)})"], True
        if kind in ("inplace", "alias_inplace"):
            return [f"x = {first}.clone()", f"out = x.{name}({rest})"], True
        return [f"out = {first}.{name}({rest})"], True
    return [f"out = {spelling}({literals.arguments(sample)})"], True


def _backward(ctx, sample, form: Form, run: checks.Run, result: str, backward: str,
              lines: list[str]) -> None:
    paths, outs, _ = checks.differentiable_outputs(run.out, run.out, sample.process, None)
    wanted = [i for i, t in enumerate(sample.tensors) if t.requires_grad]
    if not paths or not wanted:
        lines.append("# no output requires grad: nothing to differentiate")
        return
    arrays = checks.cotangents(ctx, sample, form, paths, outs)
    outputs = "[" + ", ".join(result + p[3:] for p in paths) + "]"
    inputs = "[" + ", ".join(f"t{i}" for i in wanted) + "]"
    if backward == "vjp":
        cots = ", ".join(_array(a, t) for a, t in zip(arrays, outs, strict=True))
        lines.append(f"grads = torch.autograd.grad({outputs}, {inputs}, [{cots}], "
                     "allow_unused=True)")
        return
    cots = ", ".join(_array(a, t, requires_grad=True) for a, t in zip(arrays, outs, strict=True))
    lines.append(f"cotangents = [{cots}]")
    lines.append(f"grads = torch.autograd.grad({outputs}, {inputs}, cotangents, "
                 "create_graph=True, allow_unused=True)")
    first = checks._product(ctx.torch, outs, [run.tensors[i] for i in wanted],
                            checks.as_tensors(ctx.torch, arrays, outs, True), True)
    if first.error is not None:
        return
    chosen = [i for i, g in enumerate(first.grads) if g is not None and g.requires_grad]
    if not chosen:
        return
    seconds = [first.grads[i] for i in chosen]
    second = checks.cotangents(ctx, sample, form, [f"gg{i}" for i in chosen], seconds)
    lines.append(f"grads2 = torch.autograd.grad([{', '.join(f'grads[{i}]' for i in chosen)}], "
                 f"[{inputs[1:-1]}, *cotangents], [{', '.join(map(_array, second, seconds))}], "
                 "allow_unused=True)")


def _array(values, like, requires_grad: bool = False) -> str:
    """A cotangent as a literal, in the dtype of the tensor it goes with."""
    dtype = str(like.dtype).removeprefix("torch.")
    grad = ", requires_grad=True" if requires_grad else ""
    return f"torch.tensor({literals.literal(values)}, dtype=torch.{dtype}{grad})"


def snippet(prog: Program, title: str) -> str:
    """The program as a standalone script: PyTorch by default, the engine by swapping one
    import; a statement PyTorch raises at is wrapped so the script goes on and prints it."""
    head = [f"# {title}", "import math", "",
            "import torch  # or: import engine as torch", ""]
    body = list(prog.lines)
    for entry in sorted(prog.raises, key=lambda r: -r["line"]):
        index = _statement_index(body, entry["line"])
        statement = body[index].replace("\n", "\n    ")
        body[index] = (f"try:\n    {statement}\nexcept Exception as error:  # PyTorch raises "
                       f"{entry['type']} here\n    print(type(error).__name__, error)")
    names = [n for n in ("out", "outs", "contiguous", "grads", "grads2")
             if any(line.startswith(f"{n} = ") for line in prog.lines)]
    tail = [f"print({name!r}, {name})" for name in names]
    return "\n".join(head + body + tail) + "\n"


def _statement_index(lines: list[str], line: int) -> int:
    count = 1
    for index, statement in enumerate(lines):
        if count == line:
            return index
        count += statement.count("\n") + 1
    return len(lines) - 1


def spec(prog: Program, name: str, description: str, header: str) -> str:
    """A YAML spec file (one spec) running the program; PyTorch's raises declared."""
    lines = [f"# {header}", "specs:", f"  - name: {_spec_name(name)}",
             f"    description: {json.dumps(description)}", "    max_examples: 1",
             "    program: |"]
    lines += ["      " + line if line else "" for line in prog.text.splitlines()]
    if prog.raises:
        lines.append("    raises:")
        for entry in prog.raises:
            lines.append(f"      - line: {entry['line']}")
            lines.append(f"        type: {entry['type']}")
            lines.append(f"        match: {json.dumps(entry['match'])}")
    return "\n".join(lines) + "\n"


def _spec_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
