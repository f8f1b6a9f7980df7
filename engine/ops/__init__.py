"""The ops: one module per family, each op's forward function, backward node and formulas side
by side, and ``surface``, the table that makes them torch's public API.

Families: ``elementwise``, ``shape``, ``reductions``, ``indexing``, ``linalg``, ``nn``,
``creation``; under them ``operands`` (how an op reads its operands) and ``formulas`` (what
many formulas share).  A family imports the ones it builds on (``reductions`` imports
``shape`` and ``elementwise``); a formula that needs a family above its own calls the Tensor
method (``g.sum(dims)`` in ``shape``), as torch's formulas do.

Reading a node: ``XBackward0 = backward_node("XBackward0", saved=..., fields=..., self=...,
other=...)`` declares torch's grad_fn as ``derivatives.yaml`` declares an op's derivatives:
one formula ``lambda n, g: ...`` (the node, the output's grad) per input, in
``next_functions`` order.  Formulas are written with engine ops, so with ``create_graph=True``
(grad mode on during backward) they record a graph of their own and give higher-order grads.
They use torch's ops too: ``tensor * 2`` in a C++ formula is ``mul_scalar`` (MulBackward1),
not a MulBackward0; and where both operands of a binary op record nodes, the right one is
computed first, as torch's compiled formulas evaluate them (creation order decides the order
of a later backward, which shows in higher-order graphs).  A formula may return a grad of the
output's broadcast shape or of a wider dtype: ``autograd.node.validate_grad`` sums it back to
the input's shape and casts it, in one place.  Python-scalar operands are saved as numbers;
``saved`` names the slots a backward without ``retain_graph`` frees.
"""
