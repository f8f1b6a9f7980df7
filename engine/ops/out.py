"""``out=`` for the gather/take/masked_select/cat/amax/amin function forms: torch's checks
on the written-to tensor (no autograd through it, no internal overlap, no memory shared with an
input, the op's own dtype rule), then the result written into it, resized if need be
with torch's deprecation warning."""

from __future__ import annotations

import functools
import warnings

import numpy as np

from .._tensor import Tensor, make
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_mode
from ..autograd.inplace import OVERLAP_ERROR, PARTIAL_OVERLAP_ERROR, _internal_overlap, commit

_RESIZED = ("An output with one or more elements was resized since it had shape {old}, which "
            "does not match the required output shape {new}. This behavior is deprecated, and "
            "in a future PyTorch release outputs will not be resized unless they have zero "
            "elements. You can explicitly reuse an out tensor t by resizing it, inplace, to "
            "zero elements with t.resize_(0).")


def with_out(fn, name, inputs, dtype_error):
    """``fn`` given torch's ``out=``: ``inputs(args)`` are the tensors read, and
    ``dtype_error(args, result, out)`` returns torch's error for an out of the wrong dtype
    (or None)."""

    @functools.wraps(fn)  # its signature: keyword_forms reads the dims it takes
    def function(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        read = [t for t in inputs(args) if isinstance(t, Tensor)]
        if _grad_mode.enabled and any(t._requires_grad for t in read):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                               "automatic differentiation, but one of the arguments requires "
                               "grad.")
        data = out._data
        if data.size and _internal_overlap(data):
            raise RuntimeError(OVERLAP_ERROR)
        if any(t is out or np.shares_memory(data, t._data) for t in read):  # even empty
            raise RuntimeError(PARTIAL_OVERLAP_ERROR)
        with no_grad():
            result = fn(*args, **kwargs)
        error = dtype_error(args, result, out)
        if error is not None:
            raise error
        if result._data.shape != data.shape:
            if data.size:
                warnings.warn(_RESIZED.format(old=list(data.shape),
                                              new=list(result._data.shape)),
                              UserWarning, stacklevel=2)
            out._data = np.empty(result._data.shape, data.dtype)
        return commit(out, make(result._data))

    function.__name__ = name
    return function


def same_dtype(args, result, out):
    """Structured kernels: 'Expected out tensor to have dtype float, but got double'."""
    if out.dtype != result.dtype:
        return RuntimeError(f"Expected out tensor to have dtype {result.dtype.cpp_name}, but "
                            f"got {out.dtype.cpp_name} instead")
    return None


def take_dtype(args, result, out):
    if out.dtype != result.dtype:
        return RuntimeError(f"take(): self and out expected to have the same dtype, but got "
                            f"self.dtype = {result.dtype.scalar_name} and out.dtype = "
                            f"{out.dtype.scalar_name}")
    return None


def masked_select_dtype(args, result, out):
    if out.dtype != result.dtype:
        return RuntimeError("masked_select(): self and result must have the same scalar type")
    return None


def cat_dtype(args, result, out):
    """cat writes into any dtype its inputs' type can be cast to (not float to int, nor
    anything but bool to bool)."""
    have, want = result._data.dtype.kind, out._data.dtype.kind
    if (have == "f" and want != "f") or (want == "b" and have != "b"):
        return TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                         f"{out.dtype.scalar_name}")
    return None


def listed(args):
    """cat's inputs: the tensors of its sequence argument (its own check refuses others)."""
    return args[0] if args and isinstance(args[0], (list, tuple)) else ()


def input_dtype(args, result, out):
    """amax/amin: out must have the input's dtype."""
    if out.dtype != args[0].dtype:
        return RuntimeError(f"Expected the dtype for input and out to match, but got "
                            f"{args[0].dtype.scalar_name} for input's dtype and "
                            f"{out.dtype.scalar_name} for out's dtype.")
    return None
