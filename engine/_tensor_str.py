"""Tensor printing that matches PyTorch 2.13's ``repr(tensor)`` character for character.

A numpy re-implementation of ``torch/_tensor_str.py`` for CPU strided tensors of real
dtypes, with the default print options only.  Function names mirror torch's so the two
can be read side by side.

Two torch details drive most of the code:

* The layout decision (integer mode, fixed vs scientific notation, column width) looks only
  at the non-zero finite values, converted to double; nan/inf/0 never widen a column.
* Every float is formatted by Python's ``format`` on its exact double value (``.item()`` /
  ``.tolist()``), so float16/float32 elements print via their exact binary value.
"""

from __future__ import annotations

import math

import numpy as np

# torch's PRINT_OPTS defaults (``torch.set_printoptions(profile="default")``).
PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80

_FLOAT_DTYPES = frozenset({"float16", "float32", "float64"})
# Dtypes torch never names in a non-empty tensor's repr (default dtype, int64, bool).
_DEFAULT_DTYPES = frozenset({"float32", "int64", "bool"})


class _Formatter:
    """Chooses one layout for all elements, as torch's ``_Formatter`` does.

    torch formats every value to find the widest; we format only the extreme values of each
    sign instead.  That is equivalent because correctly rounded output is monotone in the
    value: the integer-part length (fixed) grows with |x|, and the exponent (scientific)
    is monotone so its digit count peaks at the smallest or largest magnitude.
    """

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        flat = values.reshape(-1)
        if not floating:
            # str(int) is longest at the most negative or the largest value; bool: "False".
            candidates = [flat.min().item(), flat.max().item()]
            self.max_width = max(len(f"{v}") for v in candidates)
            return

        flat = flat.astype(np.float64)  # exact for float16/float32, like torch's .double()
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return  # only zeros/nan/inf: integer mode, width 1

        abs_vals = np.abs(vals)
        lo, hi = abs_vals.min(), abs_vals.max()
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        with np.errstate(over="ignore"):  # e.g. 1e300 / 1e-300 -> inf, still "> 1000"
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)

        pos, neg = vals[vals > 0], vals[vals < 0]
        candidates = [x.item() for p in (pos, neg) if p.size for x in (p.min(), p.max())]
        if self.sci_mode:
            widths = [len(f"{v:.{PRECISION}e}") for v in candidates]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in candidates]  # +1 for the trailing "."
        else:
            widths = [len(f"{v:.{PRECISION}f}") for v in candidates]
        self.max_width = max(self.max_width, *widths)

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        """Format one Python scalar, right-aligned to the common width (never truncated)."""
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."  # "3." marks a float that happens to be integral
            else:
                ret = f"{value:.{PRECISION}f}"
        else:
            ret = f"{value}"
        return ret.rjust(self.max_width)


def _scalar_str(values: np.ndarray, formatter: _Formatter) -> str:
    return formatter.format(values.item())


def _vector_str(values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """One bracketed row, wrapped so each line holds as many whole elements as fit."""
    element_length = formatter.width() + 2  # ", " between elements
    elements_per_line = max(1, (LINEWIDTH - indent) // element_length)
    fmt = formatter.format

    if summarize and values.shape[0] > 2 * EDGEITEMS:
        data = (
            [fmt(v) for v in values[:EDGEITEMS].tolist()]
            + [" ..."]
            + [fmt(v) for v in values[-EDGEITEMS:].tolist()]
        )
    else:
        data = [fmt(v) for v in values.tolist()]

    lines = [
        ", ".join(data[i : i + elements_per_line]) for i in range(0, len(data), elements_per_line)
    ]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(
    values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter
) -> str:
    """Nested brackets; sub-tensors of a d-dim tensor are separated by d-1 newlines."""
    dim = values.ndim
    if dim == 0:
        return _scalar_str(values, formatter)
    if dim == 1:
        return _vector_str(values, indent, summarize, formatter)

    size = values.shape[0]
    if summarize and size > 2 * EDGEITEMS:
        rows = [*range(EDGEITEMS), None, *range(size - EDGEITEMS, size)]
    else:
        rows = list(range(size))
    slices = [
        "..."
        if i is None
        else _tensor_str_with_formatter(values[i], indent + 1, summarize, formatter)
        for i in rows
    ]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def get_summarized_data(values: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: first/last EDGEITEMS of every long axis.

    One fancy index, so the copy is the size of the summary, not of the tensor.
    """
    if values.ndim == 0:
        return values
    index = [
        np.r_[0:EDGEITEMS, n - EDGEITEMS : n] if n > 2 * EDGEITEMS else np.arange(n)
        for n in values.shape
    ]
    return values[np.ix_(*index)]


def _tensor_str(values: np.ndarray, dtype_name: str, indent: int) -> str:
    if values.size == 0:
        return "[]"
    summarize = values.size > THRESHOLD
    formatter = _Formatter(
        get_summarized_data(values) if summarize else values, dtype_name in _FLOAT_DTYPES
    )
    return _tensor_str_with_formatter(values, indent, summarize, formatter)


def _add_suffixes(tensor_str: str, suffixes: list[str], indent: int, force_newline: bool) -> str:
    """Append ", suffix" items, moving one to its own line when it would pass LINEWIDTH."""
    parts = [tensor_str]
    # torch's arithmetic, kept as is: without a newline rfind is -1, giving len + 2.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _str_intern(
    values: np.ndarray, dtype_name: str, grad_fn_name: str | None, requires_grad: bool
) -> str:
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if values.size == 0:
        # Nothing to infer the shape or dtype from, so torch spells them out.
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype_name != "float32":
            suffixes.append(f"dtype=torch.{dtype_name}")
        tensor_str = "[]"
    else:
        if dtype_name not in _DEFAULT_DTYPES:
            suffixes.append(f"dtype=torch.{dtype_name}")
        tensor_str = _tensor_str(values, dtype_name, indent)

    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)


def format_tensor(
    values: np.ndarray,
    dtype_name: str,
    *,
    grad_fn_name: str | None = None,
    requires_grad: bool = False,
) -> str:
    """What repr(tensor)/print(tensor) shows in PyTorch, e.g.
    'tensor([[3., 3.],\\n        [3., 3.]], grad_fn=<AddBackward0>)'."""
    return _str_intern(np.asarray(values), dtype_name, grad_fn_name, requires_grad)
