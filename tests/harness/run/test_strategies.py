"""The input strategies draw what the declarations promise."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.run import strategies
from harness.spec import Spec, load_file


def spec_from(tmp_path, inputs: dict, dims: dict | None = None, program: str = "y = 1",
              **extra):
    """A spec written as JSON (which is YAML) and loaded like any other."""
    spec = {"name": "s", "description": "d", "dims": dims or {}, "inputs": inputs,
            "program": program, **extra}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"specs": [spec]}, indent=1))
    [loaded] = load_file(path, root=tmp_path).entries
    assert isinstance(loaded, Spec), loaded
    return loaded


def draws(spec, n=60):
    found = []

    @settings(max_examples=n, database=None)
    @given(strategies.inputs(spec, spec.variants()[0]))
    def collect(inputs):
        found.append(inputs)

    collect()
    return found


def test_symbolic_dims_are_shared(tmp_path):
    spec = spec_from(tmp_path, {"a": {"shape": ["n", 2]}, "b": {"shape": ["n"]}},
                     {"n": [0, 5]}, "y = a, b")
    examples = draws(spec)
    assert all(e["a"].shape[0] == e["b"].shape[0] for e in examples)
    assert {e["b"].shape[0] for e in examples} >= {0, 5}  # the bounds, zero-size included


def test_range_and_dtype(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": [4], "dtype": "float64", "range": [-2, 3]}},
                     program="y = x")
    for e in draws(spec):
        assert e["x"].dtype == np.float64 and ((-2 <= e["x"]) & (e["x"] <= 3)).all()
        assert np.isfinite(e["x"]).all()


def test_special_values_are_drawn(tmp_path):
    special = ["nan", "inf", "-inf", -0.0, "tiny"]
    spec = spec_from(tmp_path, {"x": {"shape": [6], "special": special}}, program="y = x")
    values = np.concatenate([e["x"] for e in draws(spec, 200)])
    assert np.isnan(values).any() and np.isposinf(values).any() and np.isneginf(values).any()
    assert (np.signbit(values) & (values == 0)).any()
    assert (np.abs(values) == np.finfo(np.float32).smallest_normal).any()


def test_distinct_values_have_no_ties(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": [8], "distinct": True, "range": [-1, 1]}},
                     program="y = x")
    assert all(len(set(e["x"].tolist())) == 8 for e in draws(spec))


def test_avoid_keeps_away_from_kinks(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": [8], "avoid": [0, 1], "avoid_margin": 0.1}},
                     program="y = x")
    for e in draws(spec):
        assert (np.abs(e["x"]) > 0.1).all() and (np.abs(e["x"] - 1) > 0.1).all()


def test_class_targets_and_indices(tmp_path):
    spec = spec_from(tmp_path, {
        "logits": {"shape": ["n", "c"]},
        "target": {"shape": ["n"], "dtype": "int64", "classes": "c"},
        "index": {"shape": [3], "dtype": "int64",
                  "index_for": {"input": "logits", "dim": 0, "negative": True}},
    }, {"n": [1, 4], "c": [1, 5]}, "y = logits, target, index")
    for e in draws(spec):
        n, c = e["logits"].shape
        assert ((0 <= e["target"]) & (e["target"] < c)).all()
        assert ((-n <= e["index"]) & (e["index"] < n)).all()


def test_pinned_examples_run_first(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": [2]}}, program="y = x",
                     examples=[{"x": [1.5, -2.0]}])
    [pinned] = strategies.pinned_examples(spec, spec.variants()[0])
    assert pinned["x"].dtype == np.float32 and pinned["x"].tolist() == [1.5, -2.0]


@given(st.data())
def test_special_values_exist_for_every_float_dtype(data):
    dtype = data.draw(st.sampled_from(["float16", "float32", "float64"]))
    values = strategies.special_values(["tiny", "huge", "subnormal"], dtype)
    assert all(np.isfinite(np.asarray(values, dtype=dtype)))


def test_broadcast_group_shapes_broadcast_together(tmp_path):
    spec = spec_from(tmp_path, {"a": {}, "b": {}, "c": {"shape": [2]}}, program="y = a, b, c",
                     broadcast={"inputs": ["a", "b"], "min_dims": 0, "max_dims": 3,
                                "min_side": 0, "max_side": 3})
    seen = set()
    for e in draws(spec, 100):
        np.broadcast_shapes(e["a"].shape, e["b"].shape)  # raises if they do not broadcast
        assert e["c"].shape == (2,)
        seen.add((e["a"].ndim, e["a"].size == 0))
    assert (0, False) in seen and any(empty for _, empty in seen)  # 0-d and zero-size drawn


def test_dims_the_program_reads_are_bound_as_ints(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": ["n", "m"]}}, {"n": [1, 3], "m": [2, 2]},
                     "y = torch.ones(n, m) + x", examples=[{"x": [[1.0, 2.0]]}])
    for e in draws(spec, 20):
        assert e["n"] == e["x"].shape[0] and "m" in e and isinstance(e["n"], int)
    [pinned] = strategies.pinned_examples(spec, spec.variants()[0])
    assert (pinned["n"], pinned["m"]) == (1, 2)  # read off the example's shapes


def test_dims_run_through_the_harness(tmp_path):
    from harness.run.backends import load
    from harness.run.runner import PASSED, check

    spec = spec_from(tmp_path, {}, {"n": [0, 3]}, "y = torch.ones(n, 2, requires_grad=True)\n"
                     "y.sum().backward()\nprint(y.grad)")
    torch = load("torch")
    result = check(spec, {}, "s", max_examples=10, backends=(torch, torch))
    assert result.outcome == PASSED and result.examples >= 4  # n = 0, 1, 2, 3


def test_ranges_that_are_not_exact_in_the_dtype_are_rounded_inwards(tmp_path):
    spec = spec_from(tmp_path, {"x": {"shape": [5], "dtype": ["float16", "float32"],
                                      "range": [0.1, 0.3]}}, program="y = x")
    for variant in spec.variants():

        @settings(max_examples=30, database=None)
        @given(strategies.inputs(spec, variant))
        def in_range(inputs):
            values = inputs["x"].astype(np.float64)
            assert ((0.1 <= values) & (values <= 0.3)).all()

        in_range()


def test_literals_of_loaded_local_modules_are_never_drawn(tmp_path, monkeypatch):
    """Hypothesis mixes the literals of the project's loaded modules into its draws, which made
    an item's inputs depend on what ran before it; the harness turns that pool off."""
    import importlib

    (tmp_path / "local_literals.py").write_text("MARKER = 1234.5625\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("local_literals")
    spec = spec_from(tmp_path, {"x": {"shape": [8], "range": [-5000, 5000]}}, program="y = x")
    values = np.concatenate([inputs["x"].ravel() for inputs in draws(spec, n=300)])
    assert 1234.5625 not in values
    from hypothesis.internal.conjecture import providers
    assert len(providers._get_local_constants().floats) == 0
