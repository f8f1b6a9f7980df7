"""`parity new AREA/NAME`: a commented spec skeleton that validates and passes as written.

Starting from a file that already works means the first error an author sees is their own edit,
and the comments are the format's cheat sheet (docs/specs.md has the rest).
"""

from __future__ import annotations

import re
from pathlib import Path

_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# {area}/{name}: what PyTorch behaviour do these specs pin down? (docs/specs.md)
specs:
  - name: {spec}                 # unique in this file; letters, digits, _ . -
    description: >
      One sentence for the report: what the program shows.
    dims:                        # symbolic sizes, drawn once per example: name: [low, high]
      n: [1, 4]
    inputs:                      # tensors Hypothesis draws; every input must be used
      x:
        shape: [n, 3]            # ints and dim names; [] is a 0-d tensor
        dtype: [float32, float64]  # a list gives one test item per dtype
        range: [-3, 3]           # values in [low, high]
        requires_grad: true
    program: |                   # PyTorch code; `torch`, `F` and `math` are provided
      y = (x * x).sum()
      y.backward()
      print(x.grad)
    # raises:                    # a statement that must raise (the program goes on after it)
    #   - line: 2                # program line where the statement starts
    #     type: RuntimeError
    #     match: "regex searched in the message"
"""


class ScaffoldError(Exception):
    """Why no file was written."""


def spec_path(target: str, root: Path) -> tuple[Path, str, str]:
    """`AREA/NAME` (or `AREA/NAME.yaml`, or `specs/AREA/NAME`) -> (file, area, name)."""
    parts = [p for p in target.removesuffix(".yaml").split("/") if p]
    if parts and parts[0] == "specs":
        parts = parts[1:]
    if len(parts) < 2 or not all(_PART.match(p) for p in parts):
        raise ScaffoldError(f"expected AREA/NAME (letters, digits, _ . -), got {target!r}")
    return root / "specs" / Path(*parts[:-1]) / f"{parts[-1]}.yaml", "/".join(parts[:-1]), parts[-1]


def project_root(start: Path | None = None) -> Path:
    """The folder whose specs/ `parity new` writes to, from wherever it is run: above the
    innermost `specs` folder around `start` (preferring one beside a pyproject.toml), else the
    nearest folder from `start` up that holds specs/, else `start` (the current folder)."""
    start = (start or Path.cwd()).resolve()
    folders = [start, *start.parents]
    around = [f.parent for f in folders if f.name == "specs"]  # inside specs/: its parent
    beside_pyproject = [f for f in around if (f / "pyproject.toml").is_file()]
    if beside_pyproject or around:
        return (beside_pyproject or around)[0]
    return next((f for f in folders if (f / "specs").is_dir()), start)


def new_spec(target: str, root: Path | None = None) -> Path:
    """Write the skeleton under `root` (default: project_root()); never overwrites a file."""
    root = project_root() if root is None else root
    path, area, name = spec_path(target, root)
    if path.exists():
        raise ScaffoldError(f"{path} already exists")
    schema = Path("../" * (len(path.relative_to(root).parts) - 1)) / "docs" / "spec.schema.json"
    spec = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(TEMPLATE.format(schema=schema.as_posix(), area=area, name=name, spec=spec))
    return path
