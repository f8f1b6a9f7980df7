"""The engine with one derivative broken, to measure a failing run: `MulBackward0`'s grad for
its first input is `g * other + g` instead of `g * other` (as tests/harness/test_broken_engines's
`wrong_mul_gradient`).

    pytest specs -n 2 --hypothesis-profile ci --parity-engine benchmarks/broken_mul

This package *is* the engine once imported (sys.modules points its names at engine's modules),
so there is one copy of every engine class.
"""

import sys

import engine
import engine.nn.functional
from engine.ops import elementwise

_, _other = elementwise.MulBackward0.formulas
elementwise.MulBackward0.formulas = (lambda n, g: g * n.other + g, _other)

sys.modules[__name__ + ".nn"] = engine.nn
sys.modules[__name__ + ".nn.functional"] = engine.nn.functional
sys.modules[__name__] = engine
