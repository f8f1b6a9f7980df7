"""`parity fuzz`: random autograd programs run on PyTorch and the engine, shrunk to specs.

`program` builds well-formed programs (a Hypothesis strategy), `render` writes one as source
and as a YAML spec, `campaign` runs them through the spec harness's trace and comparison and
shrinks each new divergence, `summary` counts what a campaign did.
"""
