"""Helpers of the report tests: a small results dict, and the page read back as a reader sees it
(through the stdlib HTML parser, so tests pin what is shown, not the template's whitespace)."""

from __future__ import annotations

from html.parser import HTMLParser

XSS = "<script>alert(1)</script>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
TEMPLATE_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
                 "h4", "dl", "dt", "dd", "ul", "li", "span", "p", "label", "select", "option",
                 "main", "table", "thead", "tbody", "tr", "th", "td", "code", "a", "details",
                 "summary", "pre", "mark", "script", "nav", "section", "footer", "div", "b",
                 "small", "form", "input", "button", "output", "svg", "g", "rect", "line", "text"}


def make_results() -> dict:
    """A run with one pass, one mismatch and one broken spec, in deliberately unsorted order."""
    return {
        "schema_version": 1,
        "created": "2026-11-25T21:50:00+00:00",
        "metadata": {"python": "3.11.7", "platform": "Linux-x86_64", "torch": "2.13.0+cpu",
                     "numpy": "2.4.6", "hypothesis": "6.170.17", "parity": "0.1.0",
                     "git_commit": None, "hypothesis_profile": "ci", "duration_s": 12.5,
                     "examples": 201},
        "summary": {"passed": 1, "failed": 1, "error": 1, "xfailed": 0, "xpassed": 0, "total": 3},
        "results": [
            {"id": "specs/tutorial/a_pass.yaml::a_pass", "name": "a_pass",
             "file": "specs/tutorial/a_pass.yaml", "line": 1, "description": "adds ones",
             "outcome": "passed", "duration_s": 0.1, "examples": 100,
             "program": "x = torch.ones(2)\nprint(x + 1)\n", "program_line": 4, "failure": None},
            {"id": "specs/tutorial/z_fail.yaml::z_fail", "name": "z_fail",
             "file": "specs/tutorial/z_fail.yaml", "line": 3, "description": "grad of add",
             "outcome": "failed", "duration_s": 0.42, "examples": 100,
             "program": "x = torch.ones(2, 2, requires_grad=True)\ny = x * 3\ny.sum().backward()\n",
             "program_line": 8,
             "failure": {
                 "kind": "mismatch", "message": "x.grad differs",
                 "statement_line": 3,
                 "discrepancies": [
                     {"statement_line": 3, "statement": "y.sum().backward()", "variable": "x",
                      "field": "grad", "torch": "tensor([[3., 3.],\n        [3., 3.]])",
                      "engine": "tensor([[1., 1.],\n        [1., 1.]])",
                      "detail": "max abs 2 at index (0, 0); max rel 0.667"}],
                 "inputs": {"x": {"dtype": "float32", "shape": [2, 2],
                                  "values": [[1.0, 2.0], [3.0, 4.0]]}},
                 "seed": "123456",
                 "reproduce": "pytest 'specs/tutorial/z_fail.yaml::z_fail'"
                              " --hypothesis-seed=123456",
                 "traceback": None}},
            {"id": "specs/tutorial/m_broken.yaml::m_broken", "name": "m_broken",
             "file": "specs/tutorial/m_broken.yaml", "line": 1, "description": "typo",
             "outcome": "error", "duration_s": 0.01, "examples": 1,
             "program": "x = torch.onez(2)\n", "program_line": 5,
             "failure": {"kind": "broken_spec", "message": "torch has no attribute 'onez'",
                         "statement_line": 1, "discrepancies": [], "inputs": None, "seed": None,
                         "reproduce": None,
                         "traceback": "AttributeError: module 'torch' has no attribute 'onez'"}},
        ],
    }


def table_tags(page: Page) -> list[tuple[str, dict]]:
    """The tags inside the spec table (id spec-table)."""
    start = next(i for i, (t, a) in enumerate(page.tags) if a.get("id") == "spec-table")
    end = next(i for i, (t, a) in enumerate(page.tags) if i > start and a.get("id") == "no-match")
    return page.tags[start:end]


class Page(HTMLParser):
    """Parse once; keep what the tests ask about: tag balance, attributes, text by class."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.texts: dict[str, list[str]] = {}
        self._capture: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.close()
        if self.stack:
            self.errors.append(f"unclosed: {self.stack}")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in VOID:
            return
        self.stack.append(tag)
        for cls in (attrs.get("class") or "").split():
            self._capture.append((cls, []))
            self.texts.setdefault(cls, [])
        self._capture.append(("", []))  # marks where this element's captures end

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        self._capture.pop()
        while self._capture and self._capture[-1][0] != "":
            cls, parts = self._capture.pop()
            self.texts[cls].append(" ".join(parts))

    def handle_data(self, data):
        for _, parts in self._capture:
            parts.append(data)

    def text(self, cls: str) -> list[str]:
        """Text of each element with this class, whitespace collapsed."""
        return [" ".join(t.split()) for t in self.texts.get(cls, [])]
