"""PyTorch's OpInfo corpus as a source of items, beside hand-written specs (`harness.spec`).

- `corpus`: the entries of `op_db`, the dtypes each runs in, its samples in a fixed order;
- `resolve`: an entry's call forms (function, method, in-place, operators, aliases) on the engine
  under test, found by name through its public surface, or "not offered";
- `samples`: a sample as literal values (numpy arrays and Python values), built on either
  backend, printed as a repro snippet or written as a YAML spec;
- `checks`: one sample run on both backends and compared, check by check.
"""
