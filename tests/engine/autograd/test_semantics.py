"""Autograd semantics against torch, snippet by snippet: each snippet runs on both libraries
and what it prints, the warnings it emits and the exception it raises must be identical
(addresses normalised).  Covers autograd.grad/backward, hooks, in-place ops, version counters,
views and __setitem__; the conformance specs in specs/autograd cover the same ground with
Hypothesis-drawn inputs."""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import pytest
import torch
from engine_oracle import strip_torch_tail

import engine


def run(lib, code: str) -> str:
    out = io.StringIO()
    namespace = {"torch": lib}
    with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exec(code, namespace)  # noqa: S102 - our own snippets
        except Exception as e:  # noqa: BLE001 - the exception is the observation
            print("EXC", type(e).__name__, str(e))
    for w in caught:
        if "create_graph=True" not in str(w.message):  # once per process: see test_engine.py
            print("WARN", w.category.__name__, strip_torch_tail(str(w.message)))
    return re.sub(r"0x[0-9a-f]+", "0x", out.getvalue())


SNIPPETS = [
    ('x=torch.ones(2,requires_grad=True)\n'
     "x.register_hook(lambda g: print('hook', g) or g*2)\n"
     'print(torch.autograd.grad((x*3).sum(), x))\n'
     'print(x.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y = x*3\n'
     "y.register_hook(lambda g: print('hook', g) or g*2)\n"
     'y.retain_grad()\n'
     'print(torch.autograd.grad((y*1).sum(), y))\n'
     'print(y.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y = x*3\n'
     "y.register_hook(lambda g: print('hook', g) or g*2)\n"
     'y.retain_grad()\n'
     'print(torch.autograd.grad((y*1).sum(), x))\n'
     'print(y.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2,requires_grad=True)\n'
     'r = torch.autograd.grad((x*x).sum(), [x, z], materialize_grads=True)\n'
     'print(r, r[1].requires_grad, r[1].is_leaf)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'w=x*2\n'
     'y = (w*w).sum()\n'
     'y.backward(inputs=[w])\n'
     'print(w.retains_grad, w.grad, x.grad)\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x, x))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x*2, x, torch.tensor(3)))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x*2, x, 3.0))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x*2, x, [3.0]))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x*2, x, [None]))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad([x*2, x*3], x, None))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad([x*2, torch.ones(())], x))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'print(torch.autograd.grad(x*2, [x, 1.0]))\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'torch.autograd.backward([x*2, torch.ones(())])\n'),
    ('x=torch.ones((),requires_grad=True)\n'
     'torch.autograd.backward([x*2, x*3], [None, 1.0])\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'x.register_hook(lambda g: g[0].double())\n'
     '(x*2).sum().backward()\n'),
    ('def myhook(g): return g[0]\n'
     'x=torch.ones(2,requires_grad=True)\n'
     'x.register_hook(myhook)\n'
     '(x*2).sum().backward()\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'x.register_hook(lambda g: g*2)\n'
     'y = x.detach()\n'
     'y.requires_grad_()\n'
     '(y*1).sum().backward()\n'
     'print(y.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'x.register_hook(lambda g: g*2)\n'
     'x.grad = None\n'
     '(x*1).sum().backward()\n'
     'print(x.grad)\n'
     'x.register_hook(lambda g: g*3)\n'
     '(x*1).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'x.register_hook(lambda g: print(g.requires_grad))\n'
     '(x*x).sum().backward(create_graph=True)\n'
     'print(x.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y=x*2\n'
     'y.register_hook(lambda g: g*2)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'
     'print(y.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y=x*2\n'
     'y.register_hook(lambda g: g*10)\n'
     'y.retain_grad()\n'
     'y.register_hook(lambda g: g+1)\n'
     'y.sum().backward()\n'
     'print(y.grad, x.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     "x.register_hook(lambda g: print('a',g))\n"
     'x.register_hook(lambda g: g*2)\n'
     "x.register_hook(lambda g: print('c', g))\n"
     '(x*3).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'h=x.register_hook(lambda g: g*2)\n'
     'h.remove()\n'
     'h.remove()\n'
     '(x*3).sum().backward()\n'
     'print(x.grad)\n'
     'print(h)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2,requires_grad=True)\n'
     'y = (x*z).sum()\n'
     'y.backward(inputs=[x])\n'
     'print(x.grad, z.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2,requires_grad=True)\n'
     'y = (x*z).sum()\n'
     'y.backward(inputs=[])\n'
     'print(x.grad, z.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2)\n'
     'y = (x*z).sum()\n'
     'y.backward(inputs=[z])\n'
     'print(x.grad, z.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2,requires_grad=True)\n'
     'y = (x*2).sum()\n'
     'y.backward(inputs=[z])\n'
     'print(x.grad, z.grad)\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'z=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad((x*x).sum(), [x, z]))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'print(torch.autograd.grad((x*x).sum(), c))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y=(x*x).sum()\n'
     'print(torch.autograd.grad(y, x))\n'
     'print(torch.autograd.grad(y, x))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'y=x*3\n'
     'print(torch.autograd.grad((y*y).sum(), y))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad([(x*x).sum(), (x*3).sum()], x, [torch.tensor(2.), None]))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad([(x*x).sum(), (x*3).sum()], x, [torch.tensor(2.)]))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad((x*x).sum(), x, create_graph=True))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad((x*2).sum(), x, create_graph=True))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad((x*x).sum(), x*1))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad((x*x).sum(), []))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.grad([], [x]))\n'),
    ('x=torch.ones(2,requires_grad=True)\n'
     'print(torch.autograd.backward([(x*x).sum(), x*2],\n'
     '      grad_tensors=[None, torch.ones(2)], inputs=[x]))\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2., 3.],requires_grad=True)\n'
     'y = (x**3).sum()\n'
     'g, = torch.autograd.grad(y, x, create_graph=True)\n'
     'g2, = torch.autograd.grad(g.sum(), x, create_graph=True)\n'
     'g3, = torch.autograd.grad(g2.sum(), x)\n'
     'print(g, g2, g3)\n'),
    ('x=torch.tensor([1., 2., 3.],requires_grad=True)\n'
     'v = torch.tensor([1., 0., 2.])\n'
     'y = (x**3).sum() + (x[0]*x[1] if False else 0)\n'
     'g, = torch.autograd.grad(y, x, create_graph=True)\n'
     'hv, = torch.autograd.grad(g, x, v)\n'
     'print(hv)\n'),
    ('x=torch.tensor([1., 2.],requires_grad=True)\n'
     'y=(x*x).sum()\n'
     'y.backward(create_graph=True)\n'
     'print(x.grad)\n'
     'x.grad.sum().backward()\n'
     'print(x.grad)\n'),
    ('y = torch.ones(1, requires_grad=True) * 2\n'
     'print(isinstance(y.grad_fn, torch.autograd.graph.Node))\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'x2=torch.tensor([3., 4.], requires_grad=True)\n'
     'y = x*1\n'
     'y.mul_(x2)\n'
     'print(y, y._version)\n'
     'y.sum().backward()\n'
     'print(x.grad, x2.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'x2=torch.tensor([3., 4.], requires_grad=True)\n'
     'y = x*1\n'
     'y.div_(x2)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad, x2.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*1\n'
     'y.mul_(y)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*1\n'
     'y.add_(y)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*1\n'
     'y += 2\n'
     'y *= x\n'
     'y -= 1\n'
     'y /= 2\n'
     'print(y, y._version)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'c = torch.zeros(3)\n'
     'c[0] = x[0] * 2\n'
     'c[1:] = x\n'
     'print(c, c._version, c.is_leaf)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x.exp()\n'
     'y.zero_()\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.zero_()\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.fill_(3)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.fill_(torch.tensor(3.))\n'
     'print(y)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.copy_(x*x)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = torch.zeros(2, dtype=torch.float64)\n'
     'y.copy_(x)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = torch.zeros(2, 2)\n'
     'y.copy_(x)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.clamp_(0, 3)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'y.clamp_(min=3)\n'
     'print(y)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.ones(2, dtype=torch.int64)\n'
     'x.add_(1.5)\n'),
    ('x=torch.ones(2, dtype=torch.int64)\n'
     'x.mul_(2)\n'
     'x.div_(2)\n'),
    ('x=torch.ones(2)\n'
     'x.add_(torch.ones(2,2))\n'),
    ('x=torch.ones(2)\n'
     'x.add_(torch.ones(3))\n'),
    ('x=torch.ones(2)\n'
     'x.add_(torch.ones(2, dtype=torch.float64))\n'
     'print(x, x.dtype)\n'),
    ('x=torch.ones(2, dtype=torch.bool)\n'
     'x.add_(1)\n'),
    ('x=torch.ones(2)\n'
     'x.add_(1, alpha=2)\n'
     'x.sub_(torch.ones(2), alpha=3)\n'
     'print(x)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'x.zero_()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'x.data.zero_()\n'
     'print(x, x._version)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'with torch.no_grad():\n'
     '    x.add_(1)\n'
     '    x -= 0.5\n'
     'print(x, x._version, x.is_leaf, x.grad_fn)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*2\n'
     'with torch.no_grad():\n'
     '    y.add_(1)\n'
     'print(y, y._version, y.grad_fn)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*x\n'
     'with torch.no_grad():\n'
     '    x.add_(1)\n'
     'y.sum().backward()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'x.detach().zero_()\n'
     'print(x, x._version)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * x\n'
     'x.detach().zero_()\n'
     'y.sum().backward()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * x\n'
     'x.data.zero_()\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * 2\n'
     'z = y * y\n'
     'y += 1\n'
     'z.sum().backward()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * 2\n'
     'z = y * 3\n'
     'y += 1\n'
     'z.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x.exp()\n'
     'y.add_(1)\n'
     'y.sum().backward()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x.exp()\n'
     'd = y.detach()\n'
     'd.add_(1)\n'
     'print(y)\n'
     'y.sum().backward()\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * 2\n'
     'y.retain_grad()\n'
     'y.mul_(3)\n'
     'y.sum().backward()\n'
     'print(x.grad, y.grad, y.retains_grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * 2\n'
     'y.register_hook(lambda g: print("h", g))\n'
     'y.mul_(3)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('c = torch.ones(2)\n'
     'x=torch.tensor([1., 2.], requires_grad=True)\n'
     'c.mul_(x)\n'
     'print(c, c.is_leaf, c.grad_fn, c.requires_grad)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('c = torch.ones(2)\n'
     'r = c.add_(1)\n'
     'print(r is c)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x*1\n'
     'print(y.grad_fn)\n'
     'y.add_(1)\n'
     'print(y.grad_fn, y.grad_fn.next_functions[0][0].name())\n'),
    ('x=torch.ones(2,2,requires_grad=True)\n'
     'y=x*1\n'
     'v=y[0]\n'
     'print(v._base is y, v.grad_fn)\n'
     'v.add_(1)\n'
     'print(v.grad_fn, y.grad_fn, y.grad_fn.next_functions)\n'
     'print(v.grad_fn.next_functions, v._version, y._version)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v=y[:, 1]\n'
     'v.mul_(2)\n'
     'print(v.grad_fn, y.grad_fn)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v=y[:, 1]\n'
     'v.mul_(2)\n'
     'print(v)\n'
     'v.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'y[0] = 5\n'
     'print(y.grad_fn, y.grad_fn.next_functions, y._version)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'w = torch.tensor(3., requires_grad=True)\n'
     'y=x*1\n'
     'y[0, 1] = w\n'
     'print(y, y.grad_fn.next_functions)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad, w.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'w = torch.tensor([3., 5.], requires_grad=True)\n'
     'y=x*1\n'
     'y[:, 0] = w * 2\n'
     'print(y)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad, w.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'x[0] = 1\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'x[0, 0] += 1\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'v = x[0]\n'
     'v *= 2\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'x.t().zero_()\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'with torch.no_grad():\n'
     '    x[0] = 0\n'
     '    x[1, 1] *= 3\n'
     'print(x, x._version)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x*1\n'
     'z = y * y\n'
     'y[0].add_(1)\n'
     'z.sum().backward()\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x.exp()[0]\n'
     'z = y.exp()\n'
     'y.add_(1)\n'
     'z.sum().backward()\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'c = torch.zeros(3)\n'
     'c[0] = x[0] * 2\n'
     'c[1:] = x[1:] ** 2\n'
     'print(c, c._version, c.is_leaf, c.grad_fn)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'c = torch.zeros(4)\n'
     'c[1:].copy_(x)\n'
     'print(c, c.grad_fn)\n'
     '(c * c).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'y[1] = 0\n'
     'y[2] *= 3\n'
     'print(y, y._version)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'y[::2] = torch.tensor([7., 8.])\n'
     'print(y)\n'
     '(y * x).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'y[1] = torch.ones(2)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'y[...] = 2\n'
     'print(y.grad_fn)\n'
     'y[:] = 3\n'
     'print(y)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'y[None, 1] = 2\n'
     'print(y, y.grad_fn)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v = y.t()\n'
     'v[0, 1] = 10\n'
     'print(y, v, v.grad_fn, y.grad_fn)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v = y[1]\n'
     'v[0] = 10\n'
     'print(y, v, v.grad_fn, y.grad_fn, v._version, y._version)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v = y[1]\n'
     'v.exp_()\n'
     '(y*y).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'x[...] = 1\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'x[:] = 1\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x*1\n'
     'w = torch.tensor([5., 6.], requires_grad=True)\n'
     'y[0:2] = w\n'
     'print(y.grad_fn.next_functions)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad, w.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x*1\n'
     'w = torch.tensor([[5., 6.]], requires_grad=True)\n'
     'y[1] = w\n'
     'print(y.grad_fn.next_functions, y.grad_fn.next_functions[1][0].next_functions)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad, w.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x*1\n'
     'w = torch.tensor(5., requires_grad=True)\n'
     'y[1] = w\n'
     'print(y.grad_fn.next_functions)\n'
     '(y*y).sum().backward()\n'
     'print(x.grad, w.grad)\n'),
    ('c = torch.zeros(3, dtype=torch.int64)\n'
     'c[0] = 1.7\n'
     'c[1:] = torch.tensor([2.5, 3.5])\n'
     'print(c, c._version)\n'),
    ('c = torch.zeros(3)\n'
     'c[0] = torch.tensor([1.0, 2.0])\n'),
    ('c = torch.zeros(3)\n'
     'c[5] = 1\n'),
    ('c = torch.zeros(2, 3)\n'
     'c[:, 1] = torch.ones(3)\n'),
    ('c = torch.zeros(3)\n'
     'x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'c[:] = x\n'
     'print(c.grad_fn, c.grad_fn.next_functions)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('c = torch.zeros(3)\n'
     'x=torch.tensor(2.,requires_grad=True)\n'
     'c[:] = x\n'
     'print(c.grad_fn, c.grad_fn.next_functions)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = x ** c\n'
     'c.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = c ** x\n'
     'c.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = x ** c\n'
     'd.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = c ** x\n'
     'd.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = x / c\n'
     'c.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = c / x\n'
     'c.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'c = torch.ones(2)\n'
     'd = torch.where(c > 0, x, c)\n'
     'c.add_(1)\n'
     'd.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.], requires_grad=True)\n'
     'd = x.norm()\n'
     'd.add_(1)\n'
     'd.backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v = y[0]\n'
     'y.mul_(2)\n'
     'print(v.grad_fn)\n'
     'v.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y=x*1\n'
     'v = y[0]\n'
     'w = y[1]\n'
     'v.mul_(2)\n'
     'print(w.grad_fn)\n'
     '(w*w).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x * 2\n'
     'y.grad = torch.ones(2)\n'
     'print(y.grad)\n'
     'y.sum().backward()\n'
     'print(y.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'd = x[0].detach()\n'
     'print(d._base, d._version)\n'
     'd.add_(1)\n'
     'print(x._version, x)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'print(torch.autograd.grad((x*x).sum(), x, only_inputs=False))\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x.expand(3, 2)\n'
     'y.add_(1)\n'),
    ('c = torch.ones(2)\n'
     'y = c.expand(3, 2)\n'
     'y.add_(1)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x * 1\n'
     'y.register_hook(lambda g: g.add_(1))\n'
     '(y*2).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = (x * 2).sum()\n'
     'y.backward()\n'
     'x.grad.add_(1)\n'
     'print(x.grad)\n'
     '(x*3).sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x * 2\n'
     'z = y.view(2, 1)\n'
     'z.add_(1)\n'
     'print(y.grad_fn, z.grad_fn)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x * 2\n'
     'z = y.reshape(1, 2)\n'
     'z[0, 0] = 5\n'
     'print(y, y.grad_fn)\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.],requires_grad=True)\n'
     'y = x.exp()\n'
     'y[0] = 1\n'
     'y.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * x\n'
     'y[1] = x[0] ** 3\n'
     'g, = torch.autograd.grad(y.sum(), x, create_graph=True)\n'
     'print(g)\n'
     'g2, = torch.autograd.grad(g.sum(), x)\n'
     'print(g2)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x * x\n'
     'v = y[:, 0]\n'
     'v.mul_(x[:, 1])\n'
     'g, = torch.autograd.grad((y * y).sum(), x, create_graph=True)\n'
     'print(g)\n'
     'g2, = torch.autograd.grad(g.sum(), x)\n'
     'print(g2)\n'),
    ('x=torch.tensor([[1.,2.],[3.,4.]],requires_grad=True)\n'
     'y = x * x\n'
     'v = y.t()\n'
     'v[0] = x[1] * 2\n'
     'g, = torch.autograd.grad((v * v).sum(), x, create_graph=True)\n'
     'print(g)\n'
     'g2, = torch.autograd.grad(g.sum(), x)\n'
     'print(g2)\n'),
    ('x=torch.tensor([1.,2.,3.],requires_grad=True)\n'
     'y = x * 1\n'
     'v = y[1:]\n'
     'v.mul_(v.detach() + x[1:])\n'
     '(v*v).sum().backward(create_graph=True)\n'
     'print(x.grad)\n'
     'g = x.grad.sum()\n'
     'x.grad = None\n'
     'g.backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([0.5, 1.5, 2.5], requires_grad=True)\n'
     'for name, args in [("sqrt_", ()), ("exp_", ()), ("log_", ()), ("neg_", ()),\n'
     '        ("abs_", ()), ("pow_", (2,)), ("sigmoid_", ()), ("tanh_", ()), ("relu_", ()),\n'
     '        ("reciprocal_", ()), ("clamp_min_", (1.0,)), ("clamp_max_", (1.0,)),\n'
     '        ("floor_", ()), ("div_", (2.0,)), ("sin_", ()), ("square_", ())]:\n'
     '    y = x * 1\n'
     '    r = getattr(y, name)(*args)\n'
     '    y.sum().backward()\n'
     '    print(name, r is y, y.grad_fn.name(), y._version, x.grad)\n'
     '    x.grad = None\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'y = x * 4\n'
     'y.div_(3, rounding_mode="floor")\n'
     'print(y, y.grad_fn)\n'),
    ('c = torch.tensor([1, 2, 3])\n'
     'c.add_(2)\n'
     'c.mul_(3)\n'
     'c.sub_(1)\n'
     'c.clamp_(0, 10)\n'
     'c.zero_()\n'
     'c.fill_(7)\n'
     'print(c, c._version)\n'),
    ('c = torch.tensor([1., 2.])\n'
     'c.copy_(torch.tensor([3, 4]))\n'
     'print(c, c.dtype)\n'
     'c.fill_(torch.tensor(5.))\n'
     'print(c)\n'),
    ('c = torch.tensor([1., 2.])\n'
     'c.fill_(torch.tensor([5., 6.]))\n'),
    ('c = torch.tensor([1., 2.])\n'
     'c.copy_([1, 2])\n'),
    ('c = torch.tensor([1., 2.])\n'
     'c.copy_(torch.ones(3))\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'c = torch.zeros(2)\n'
     'c.copy_(x * 2)\n'
     'c.fill_(3)\n'
     'print(c.grad_fn)\n'
     'c.sum().backward()\n'
     'print(x.grad)\n'),
    ('x=torch.tensor([1., 2.], requires_grad=True)\n'
     'v = torch.tensor(3., requires_grad=True)\n'
     'c = x * 1\n'
     'c.fill_(v)\n'
     'print(c.grad_fn, c.grad_fn.next_functions)\n'
     '(c * c).sum().backward()\n'
     'print(x.grad, v.grad)\n'),
    ('x=torch.ones(2, requires_grad=True)\n'
     '(x*2).sum().backward()\n'
     'g = x.grad\n'
     'print(g._version)\n'
     '(x*2).sum().backward()\n'
     'print(g._version, g is x.grad)\n'),
    ('x=torch.ones(2, requires_grad=True)\n'
     'y = x * 2\n'
     'y.retain_grad()\n'
     '(y*2).sum().backward(retain_graph=True)\n'
     'g = y.grad\n'
     'print(g._version)\n'
     '(y*2).sum().backward()\n'
     'print(g._version, g is y.grad)\n'),
    ('x=torch.ones(2, requires_grad=True)\n'
     'x.grad = torch.zeros(2)\n'
     'g = x.grad\n'
     '(x*2).sum().backward()\n'
     'print(g._version, g is x.grad, g)\n'),
]


@pytest.mark.parametrize("code", SNIPPETS, ids=range(len(SNIPPETS)))
def test_snippet_matches_torch(code):
    assert run(engine, code) == run(torch, code)
