"""Fuzz the loader: whatever the bytes, `load_file` answers with Specs and SpecErrors, never raises.

Three sources of input: random text over YAML's punctuation, random YAML documents built from the
spec vocabulary (so pydantic and the semantic checks see odd but well-formed data), and random
mutations of real spec files (every spec under specs/ and the broken-spec corpus).
"""

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from harness.spec import Spec, SpecError, SpecFile, load_file

ROOT = Path(__file__).parents[3]
SEEDS = sorted((ROOT / "specs").rglob("*.yaml")) + sorted((ROOT / "tests/broken_specs").glob("*"))
SEED_BYTES = [p.read_bytes() for p in SEEDS]
FIELDS = ["specs", "name", "description", "program", "dims", "inputs", "raises", "max_examples",
          "examples", "tolerance", "shape", "dtype", "range", "fill", "nonzero", "requires_grad",
          "special", "distinct", "line", "type", "match", "x", "n", "float32", "int64"]
SNIPPETS = ["&a ", "*a", "<<: *a\n", "!!python/object:os.system ", "!!binary ", "? ", "---\n",
            "...\n", "%YAML 1.1\n", "\t", "\x00", "\ufeff", "é", "'", '"', "|", ">", "- ", ": ",
            "{", "}", "[", "]", "#", "\n", "  ", "1e-5", "no", ".nan", "-.inf", "~", "null",
            "import os\n", "__class__", "while True: pass\n", "x.grad", "[n, 3]", "10000000000"]
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def assert_answers(workdir: Path, data: bytes) -> None:
    path = workdir / "fuzz.yaml"
    path.write_bytes(data)
    result = load_file(path, root=workdir)
    assert isinstance(result, SpecFile)
    assert result.entries, "a file always gives at least one spec or error"
    for entry in result.entries:
        assert isinstance(entry, Spec | SpecError)
        if isinstance(entry, SpecError):
            assert entry.line >= 1 and entry.col >= 1 and entry.message
            assert str(entry).startswith("fuzz.yaml:")


yaml_text = st.lists(st.one_of(st.sampled_from(SNIPPETS + FIELDS), st.text(max_size=5)),
                     max_size=40).map("".join)


@SETTINGS
@given(text=st.one_of(yaml_text, st.text(max_size=200)))
def test_random_text(workdir, text):
    assert_answers(workdir, text.encode("utf-8", "surrogatepass"))


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(),
                    st.sampled_from(FIELDS + SNIPPETS), st.text(max_size=20))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)),
    max_leaves=30,
)


@SETTINGS
@given(doc=st.one_of(documents, st.builds(lambda specs: {"specs": specs},
                                          st.lists(documents, max_size=3))))
def test_random_documents(workdir, doc):
    out = io.StringIO()
    YAML().dump(doc, out)
    assert_answers(workdir, out.getvalue().encode("utf-8", "surrogatepass"))


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEED_BYTES)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate_line"]))
        if kind == "delete":
            del data[at: at + draw(st.integers(1, 20))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(SNIPPETS + FIELDS)).encode()
        elif kind == "replace" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        else:
            lines = bytes(data).splitlines(keepends=True) or [b""]
            i = draw(st.integers(0, len(lines) - 1))
            data = bytearray(b"".join(lines[: i + 1] + lines[i:]))
    return bytes(data)


@settings(SETTINGS, max_examples=400)
@given(data=mutated())
def test_mutated_real_specs(workdir, data):
    assert_answers(workdir, data)


ALIAS_FIELDS = ["description", "examples", "program", "raises", "dims", "inputs", "tolerance",
                "name", "bogus"]


@st.composite
def alias_heavy(draw) -> str:
    """A spec whose field is the top of a tower of anchors, each level `fanout` aliases of the
    one below (lists, mappings, merge keys): up to 12**12 values from a few KB of text."""
    levels, fanout = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    lines = ["specs:", "  - name: a", "    description: d", "    program: y = 1",
             "    defs:", "      l0: &l0 [x, 1, .nan]"]
    for level in range(1, levels + 1):
        kind = draw(st.sampled_from(["list", "map", "merge", "nested"]))
        below = f"*l{level - 1}"
        if kind == "list":
            body = "[" + ", ".join([below] * fanout) + "]"
        elif kind == "map":
            body = "{" + ", ".join(f"k{i}: {below}" for i in range(fanout)) + "}"
        elif kind == "merge":
            body = "{<<: {k: " + below + "}, " + ", ".join(f"m{i}: {below}"
                                                         for i in range(fanout)) + "}"
        else:
            body = "[[" + ", ".join([below] * fanout) + "], {k: " + below + "}]"
        lines.append(f"      l{level}: &l{level} {body}")
    lines.append(f"    {draw(st.sampled_from(ALIAS_FIELDS))}: *l{levels}")
    return "\n".join(lines) + "\n"


@settings(SETTINGS, max_examples=60)
@given(text=alias_heavy())
def test_alias_heavy_documents_answer_quickly(workdir, text):
    start = time.perf_counter()
    assert_answers(workdir, text.encode())
    assert time.perf_counter() - start < 5, "an alias tower must be refused, not expanded"


# Inputs the fuzzers found (or that were tried by hand), kept as regressions.
FOUND = {
    "control character": "specs:\x1b\n",
    "recursive alias": "specs: &a\n  - *a\n",
    "alias of a spec": "specs:\n  - &s\n    name: a\n    description: *s\n    program: y = 1\n",
    "deep flow nesting": "specs: " + "[" * 5000 + "]" * 5000 + "\n",
    "merge key": "base: &b {description: d, program: 'y = 1'}\nspecs:\n  - <<: *b\n    name: a\n",
    "complex key": "specs:\n  - name: a\n    inputs:\n    ?   x: {shape: [2]}\n",
    "list key": "specs:\n  - name: a\n    ? [1, 2]\n    : 3\n",
    "YAML 1.1 directive": "%YAML 1.1\n---\nspecs: []\n",
    "huge int": "specs:\n  - name: a\n    description: d\n    inputs: {x: {shape: [" + "9" * 30
                + "]}}\n    program: y = x\n",
    "deep program": "specs:\n  - name: a\n    description: d\n    program: y = " + "-" * 100000
                    + "1\n",
    "compiler-only syntax error": "specs:\n  - name: a\n    description: d\n"
                                  "    program: '*a, = [1]; y = *a'\n",
    "null byte in program": 'specs:\n  - name: a\n    description: d\n    program: "y = \'\\0\'"\n',
    "alias bomb": "specs:\n  - name: a\n    description: d\n    program: y = 1\n    x:\n"
                  + "".join(f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n"
                            for i in range(1, 10)).replace("*l0", "0")
                  + "    examples: [*l9]\n",
    "alias bomb as a duplicate key's value": "specs:\n  - name: a\n    description: d\n"
                  + "    program: y = 1\n    x:\n"
                  + "".join(f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n"
                            for i in range(1, 10)).replace("*l0", "0")
                  + "    description: *l9\n",
}


@pytest.mark.parametrize("text", FOUND.values(), ids=FOUND.keys())
def test_found_inputs_get_an_error(workdir, text):
    assert_answers(workdir, text.encode())
    entries = load_file(workdir / "fuzz.yaml", root=workdir).entries
    assert any(isinstance(e, SpecError) for e in entries)
