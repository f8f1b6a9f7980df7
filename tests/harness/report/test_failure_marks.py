"""The ▶ in a failure's program: from a real run of the harness to the rendered card."""

from __future__ import annotations

import json

from report_page import Page

from engine.autograd import node as _node
from harness.report.html import render_html
from harness.report.results import build
from harness.run.records import record_for_spec
from harness.run.runner import check
from harness.spec import Spec, load_file

PROGRAM = """\
y = x * 2
for i in range(2):
    z = y.sum()
    z.backward()
print(x.grad)
"""


def test_exception_inside_a_loop_is_marked_where_it_was_raised(tmp_path, monkeypatch):
    spec = {"name": "s", "description": "d", "inputs": {"x": {"shape": [2],
                                                              "requires_grad": True}},
            "program": PROGRAM, "raises": [{"line": 2, "type": "RuntimeError"}]}
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"specs": [spec]}, indent=1))
    [spec] = load_file(path, root=tmp_path).entries
    assert isinstance(spec, Spec)
    monkeypatch.setattr(_node.Node, "release", lambda self: None)  # no second-backward error
    result = check(spec, spec.variants()[0], "s.yaml::s", max_examples=3)
    record = record_for_spec("s.yaml::s", "s", spec, result, 0)
    page = Page(render_html(build([record], {})))
    assert page.text("failing") == ["z.backward()"]
    assert page.text("message")[0].startswith("line 2 `for i in range(2): …`: exception differs"
                                              " (raised at line 4)")
