"""Random fills that ``nn.init``, ``Dropout`` and the samplers need, until the engine has them.

Each helper calls the engine's own op when it exists (``Tensor.uniform_``, ``normal_``,
``random_``, ``engine.randperm``: being written with PyTorch's exact bits) and otherwise fills
from the public ``engine.rand``/``randn``/``randint``, whose values differ from torch's.
The integrator moves the fallbacks out once the engine's RNG lands.
"""

from __future__ import annotations

import numpy as np

import engine


def _fill(tensor, values):
    with engine.no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    if hasattr(engine.Tensor, "uniform_"):
        return tensor.uniform_(a, b, generator=generator)
    u = engine.rand(tuple(tensor.shape), dtype=tensor.dtype, generator=generator)
    return _fill(tensor, u * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    if hasattr(engine.Tensor, "normal_"):
        return tensor.normal_(mean, std, generator=generator)
    z = engine.randn(tuple(tensor.shape), dtype=tensor.dtype, generator=generator)
    return _fill(tensor, z * std + mean)


def randperm(n, generator=None):
    """A random permutation of ``range(n)`` as an int64 tensor."""
    if hasattr(engine, "randperm"):
        return engine.randperm(n, generator=generator)
    keys = engine.rand(n, dtype=engine.float64, generator=generator)
    return engine.tensor(np.argsort(keys.numpy(), kind="stable"), dtype=engine.int64)


def random_int64(generator=None):
    """``torch.empty((), dtype=torch.int64).random_(generator=g).item()``: a seed drawn from
    ``generator`` (RandomSampler and random_split draw their seeds so)."""
    if hasattr(engine.Tensor, "random_"):
        return int(engine.empty((), dtype=engine.int64).random_(generator=generator).item())
    return int(engine.randint(0, 2**62, (1,), generator=generator).item())


def qr(matrix):
    """``torch.linalg.qr`` (reduced): numpy's LAPACK Householder QR."""
    q, r = np.linalg.qr(matrix.detach().numpy())
    return engine.from_numpy(q), engine.from_numpy(r)
