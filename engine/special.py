"""torch.special: special functions, and the names torch.special gives ops of ``torch``
(``expit`` is sigmoid, ``gammaln`` lgamma, ``psi`` digamma, ``multigammaln`` mvlgamma ...).

Each function checks its first argument is a tensor and names itself in torch's messages as
``special_X``, as torch's argument parser does.
"""

from __future__ import annotations

from .ops import elementwise as _E
from .ops import nn as _N
from .ops import pointwise as _P
from .ops import reductions as _R
from .ops import special as _S
from .ops.surface import checked_unary as _checked


def _softmax(input, dim, dtype=None):
    return _N.softmax(input, dim, 4, dtype)


def _log_softmax(input, dim, dtype=None):
    return _N.log_softmax(input, dim, 4, dtype)


def _polygamma(n, input):
    return _S.polygamma(n, input)


def _round(input, *, decimals=0):
    return _P.round(input, decimals=decimals)


entr = _checked(_S.entr, "special_entr")
erf = _checked(_S.erf, "special_erf")
erfc = _checked(_S.erfc, "special_erfc")
erfcx = _checked(_S.erfcx, "special_erfcx")
erfinv = _checked(_S.erfinv, "special_erfinv")
expit = _checked(_E.sigmoid, "special_expit")
exp2 = _checked(_P.exp2, "special_exp2")
expm1 = _checked(_E.expm1, "special_expm1")
log1p = _checked(_E.log1p, "special_log1p")
gammaln = _checked(_S.lgamma, "special_gammaln")
digamma = _checked(_S.digamma, "special_digamma")
psi = _checked(_S.digamma, "special_psi")
multigammaln = _checked(_S.mvlgamma, "special_multigammaln")
i0 = _checked(_S.i0, "special_i0")
i0e = _checked(_S.i0e, "special_i0e")
i1 = _checked(_S.i1, "special_i1")
i1e = _checked(_S.i1e, "special_i1e")
log_ndtr = _checked(_S.log_ndtr, "special_log_ndtr")
ndtr = _checked(_S.ndtr, "special_ndtr")
ndtri = _checked(_S.ndtri, "special_ndtri")
logit = _checked(_S.logit, "special_logit")
sinc = _checked(_S.sinc, "special_sinc")
round = _checked(_round, "special_round")  # noqa: A001 - torch's name
softmax = _checked(_softmax, "special_softmax")
log_softmax = _checked(_log_softmax, "special_log_softmax")
logsumexp = _checked(_R.logsumexp, "special_logsumexp")
polygamma = _polygamma
xlogy = _S.xlogy
xlog1py = _S.xlog1py

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln",
    "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
    "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
    "xlogy",
]
