"""Parity's harness: specs run on PyTorch and on the engine, traces compared, results reported.

One package per stage, data flowing one way (docs/architecture.md):

- `harness.contract`: what the stages share (check names, the field -> check mapping, the
  results schema version, outcomes).
- `harness.spec`: the YAML spec source: model, hardened loader, semantic checks, the program
  allow-list, expectations, `parity new` / `parity schema`.
- `harness.run`: a spec item as a Hypothesis property: strategies, two traces, comparison,
  outcome, result record; the pytest plugin.
- `harness.report`: results.json and index.html from plain records; imports only
  `harness.contract` and `harness.report.*`.
- `harness.validate`, `harness.cli`: the `parity` commands that combine stages.
"""
