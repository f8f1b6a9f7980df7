"""specs/expectations.yaml gets the spec loader's YAML handling: one clear line per mistake, and
no alias bomb can hang the run (the plugin loads this file before any spec runs)."""

import time

import pytest

from harness.spec.expectations import ExpectationsError, load

BOMB = "".join(f"- &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10))
BOMB = "- &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + BOMB


@pytest.mark.parametrize("text", [
    # a duplicate key whose value is a bomb: ruamel put the value into its message, forever
    "expectations:\n  - id: specs/a.yaml::x\n    reason: r\nbombs:\n" +
    "".join("  " + line for line in BOMB.splitlines(True)) + "bombs: *a8\n",
    # a bomb in a field
    "bombs:\n" + "".join("  " + line for line in BOMB.splitlines(True)) +
    "expectations:\n  - id: specs/a.yaml::x\n    reason: *a8\n",
], ids=["duplicate_key_bomb", "alias_bomb"])
def test_alias_bombs_are_one_clear_error(tmp_path, text):
    path = tmp_path / "expectations.yaml"
    path.write_text(text)
    start = time.monotonic()
    with pytest.raises(ExpectationsError) as caught:
        load(path)
    assert time.monotonic() - start < 5
    assert str(caught.value).startswith(f"{path}:")
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_a_good_file_loads(tmp_path):
    path = tmp_path / "expectations.yaml"
    path.write_text("expectations:\n  - id: specs/a.yaml::x\n    reason: summation order\n"
                    "    strict: false\n")
    [entry] = load(path).values()
    assert (entry.id, entry.reason, entry.strict, entry.line) == (
        "specs/a.yaml::x", "summation order", False, 2)
