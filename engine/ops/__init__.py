"""The ops: forward functions, their backward nodes and formulas, one module per family."""
