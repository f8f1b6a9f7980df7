"""``backward_node`` declares a node as torch's grad_fn: its name, saved slots freed after
backward, kept fields, one formula per named input and the order grads are computed in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.autograd.node import SECOND_BACKWARD, Node, attach, backward_node
from engine.ops import elementwise, linalg


def test_a_declared_node_is_torchs_class():
    cls = elementwise.MulBackward0
    assert issubclass(cls, Node)
    assert repr(cls) == repr(type(torch.ones(1, requires_grad=True).mul(torch.ones(1)).grad_fn))
    assert cls.inputs == ("self", "other")
    assert cls.saved == ("self_", "other")
    assert cls.__slots__ == ("self_", "other")
    assert cls.grad_order == (1, 0)  # "other" before "self"
    assert linalg.AddmmBackward0.grad_order == (1, 2, 0)  # mat1, mat2, self
    assert elementwise.AddBackward0.saved == () and elementwise.AddBackward0.__slots__ == ("alpha",)


def test_saved_slots_are_freed_and_fields_kept():
    calls = []
    Square = backward_node("SquareBackward0", saved=("self_",), fields=("scale",),
                           self=lambda n, g: calls.append(n.scale) or g * n.self_ * n.scale)
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    node = Square()
    node.self_, node.scale = x, 2.0
    y = attach(node, x._data ** 2, (x,))
    assert type(y.grad_fn).__name__ == "SquareBackward0"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    assert calls == [2.0] and node.self_ is None and node.scale == 2.0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    assert SECOND_BACKWARD.startswith("Trying to backward through the graph a second time")


def test_a_node_without_saved_values_can_run_twice():
    grads = []
    for lib in (torch, engine):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x + 1).sum()  # AddBackward0 (a scalar operand) and SumBackward0 save nothing
        y.backward()
        y.backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(*grads)


def test_base_class_and_unknown_grad_order_name():
    class Base(Node):
        __slots__ = ()

    cls = backward_node("FooBackward0", base=Base, self=lambda n, g: g)
    assert issubclass(cls, Base)
    with pytest.raises(ValueError):
        backward_node("BarBackward0", grad_order=("other", "self"), self=lambda n, g: g)
