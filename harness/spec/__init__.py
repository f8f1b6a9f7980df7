"""The spec source: YAML spec files become validated `Spec`s (or `SpecError`s with positions).

Modules: `model` (the pydantic model, `Spec`, `SpecError`, the dtype domain), `loader` (hardened
YAML 1.2 with positions), `positions` (where a problem is), `checks` (semantic checks), `program`
(the allow-list and compiled statements), `api_names` (PyTorch names a program uses),
`expectations` (specs/expectations.yaml), `scaffold` (`parity new`), `schema` (`parity schema`).
Nothing here imports `harness.run` or `harness.report`: data flows spec -> run -> report.
"""

from harness.spec.loader import load_file
from harness.spec.model import Spec, SpecError, SpecFile

__all__ = ["Spec", "SpecError", "SpecFile", "load_file"]
