"""Running spec items: one item (a spec and a dtype variant) as a Hypothesis property.

strategies draw inputs -> trace runs the program on PyTorch and on the engine (backends) ->
compare says what differs -> runner turns it into a `SpecResult` -> records makes the plain JSON
record the report reads. plugin is the pytest plugin that collects specs and drives this.
"""
