"""The report: results.json and a self-contained index.html from plain result records.

Imports only `harness.contract` and `harness.report.*` (plus the standard library and jinja2):
it reads the records any source of items produced, never specs or traces.
"""
