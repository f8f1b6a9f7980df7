"""engine.utils.data against torch.utils.data: batches, collation of every sample kind,
samplers, random_split and the argument errors.

Orders drawn at random (shuffle, random_split) match torch's once the engine's generator
has torch's bits (``engine.randperm`` and ``Tensor.random_``); until then they are checked
for what any random source must give: permutations, disjoint covers, reproducibility."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch

import engine
import engine.utils.data as edata

LIBS = ((torch, torch.utils.data), (engine, edata))
Point = namedtuple("Point", ["x", "label"])


def plain(value):
    """A batch as plain Python data: tensors become (dtype, shape, values)."""
    if isinstance(value, (torch.Tensor, engine.Tensor)):
        return ("tensor", str(value.dtype), tuple(value.shape), value.tolist())
    if isinstance(value, dict):
        return (type(value).__name__, [(k, plain(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [plain(v) for v in value])
    return (type(value).__name__, value)


def tensor_dataset(lib, data_mod, n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 3
    return data_mod.TensorDataset(lib.tensor(x), lib.tensor(y))


@pytest.mark.parametrize("kwargs", [
    dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=1),
    dict(batch_size=None), dict(batch_size=3, shuffle=False), dict(batch_size=20),
])
def test_sequential_batches_match_torch(kwargs):
    out = {}
    for lib, data_mod in LIBS:
        loader = data_mod.DataLoader(tensor_dataset(lib, data_mod), **kwargs)
        out[lib.__name__] = (len(loader), [plain(b) for b in loader],
                             [plain(b) for b in loader])  # a second epoch
    assert out["engine"] == out["torch"]


class Samples:
    """A map-style dataset of heterogeneous samples, built per library."""

    def __init__(self, lib, data_mod, kind):
        self.lib, self.kind = lib, kind

    def __len__(self):
        return 5

    def __getitem__(self, i):
        lib = self.lib
        samples = {
            "tensors": lambda: (lib.ones(2, 2) * i, lib.tensor(i)),
            "numbers": lambda: (float(i) / 3, i, i % 2 == 0),
            "strings": lambda: (f"s{i}", i),
            "dicts": lambda: {"a": lib.tensor([i, i + 1]), "b": [i, float(i)]},
            "ordered": lambda: OrderedDict(z=i, y=lib.zeros(1) + i),
            "named": lambda: Point(lib.ones(3) * i, i),
            "numpy": lambda: (np.full((2,), i, dtype=np.float64), np.int32(i), np.float32(i)),
            "lists": lambda: [i, [i, i * 2]],
        }
        return samples[self.kind]()


KINDS = ["tensors", "numbers", "strings", "dicts", "ordered", "named", "numpy", "lists"]


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_matches_torch(kind):
    out = {}
    for lib, data_mod in LIBS:
        loader = data_mod.DataLoader(Samples(lib, data_mod, kind), batch_size=3)
        out[lib.__name__] = [plain(b) for b in loader]
    assert out["engine"] == out["torch"]


@pytest.mark.parametrize("kind", KINDS)
def test_default_convert_without_batching_matches_torch(kind):
    out = {}
    for lib, data_mod in LIBS:
        loader = data_mod.DataLoader(Samples(lib, data_mod, kind), batch_size=None)
        out[lib.__name__] = [plain(b) for b in loader]
    assert out["engine"] == out["torch"]


def test_collate_errors_match_torch():
    def run(data_mod, batch):
        try:
            return plain(data_mod.default_collate(batch))
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            return type(e).__name__, str(e)

    for batch in ([object(), object()], [[1, 2], [3]], [np.array(["a"]), np.array(["b"])]):
        assert run(edata, batch) == run(torch.utils.data, batch)


def test_shuffle_is_a_reproducible_permutation():
    data = tensor_dataset(engine, edata, n=23)
    g1, g2 = engine.Generator().manual_seed(5), engine.Generator().manual_seed(5)
    first = [b[1].tolist() for b in edata.DataLoader(data, batch_size=5, shuffle=True,
                                                       generator=g1)]
    again = [b[1].tolist() for b in edata.DataLoader(data, batch_size=5, shuffle=True,
                                                       generator=g2)]
    assert first == again
    rows = [r for b in edata.DataLoader(data, batch_size=5, shuffle=True) for r in b[0].tolist()]
    assert sorted(rows) == data.tensors[0].tolist()
    assert [len(b) for b in first] == [5, 5, 5, 5, 3]


def test_shuffle_order_matches_torch():
    out = {}
    for lib, data_mod in LIBS:
        lib.manual_seed(123)
        loader = data_mod.DataLoader(tensor_dataset(lib, data_mod, n=17), batch_size=4,
                                     shuffle=True)
        epochs = [[plain(b) for b in loader] for _ in range(2)]
        g = lib.Generator().manual_seed(9)
        split = data_mod.random_split(range(11), [0.3, 0.7], generator=g)
        out[lib.__name__] = (epochs, [list(s) for s in split])
    assert out["engine"] == out["torch"]


def test_random_split_lengths_and_cover_match_torch():
    for lengths in ([3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [1.0], [0.34, 0.33, 0.33]):
        out = {}
        for lib, data_mod in LIBS:
            parts = data_mod.random_split(range(10), lengths,
                                          generator=lib.Generator().manual_seed(0))
            out[lib.__name__] = [len(p) for p in parts]
            assert sorted(i for p in parts for i in p) == list(range(10))
            assert all(type(p).__name__ == "Subset" for p in parts)
        assert out["engine"] == out["torch"], lengths


@pytest.mark.parametrize("code", [
    "data.random_split(range(10), [3, 3])",
    "data.random_split(range(10), [1.2, -0.2])",
    "data.DataLoader(ds, batch_size=0)",
    "data.DataLoader(ds, batch_size=2, drop_last=1)",
    "data.DataLoader(ds, shuffle=True, sampler=[0, 1])",
    "data.DataLoader(ds, batch_sampler=[[0]], batch_size=2)",
    "data.DataLoader(ds, batch_size=None, drop_last=True)",
    "data.DataLoader(ds, num_workers=-1)",
    "data.DataLoader(ds, timeout=-1)",
    "data.DataLoader(ds, prefetch_factor=2)",
    "data.DataLoader(ds, persistent_workers=True)",
    "loader = data.DataLoader(ds); loader.batch_size = 3",
    "data.TensorDataset(lib.ones(3), lib.ones(4))",
    "data.Dataset()[0]",
    "data.RandomSampler(ds, num_samples=0)",
    "data.RandomSampler(ds, replacement=1)",
    "data.ConcatDataset([])",
    "(ds + ds)[-25]",
])
def test_errors_match_torch(code):
    def run(lib, data_mod):
        ds = tensor_dataset(lib, data_mod)
        try:
            exec(code, {"lib": lib, "data": data_mod, "ds": ds})
            return "ok"
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            return type(e).__name__, str(e)

    assert run(engine, edata) == run(torch, torch.utils.data)


def test_samplers_subset_and_concat_match_torch():
    out = {}
    for lib, data_mod in LIBS:
        ds = tensor_dataset(lib, data_mod)
        both = ds + tensor_dataset(lib, data_mod, n=4)
        sub = data_mod.Subset(ds, [7, 2, 5])
        loader = data_mod.DataLoader(sub, batch_size=2)
        batched = data_mod.DataLoader(
            ds, batch_sampler=data_mod.BatchSampler(data_mod.SequentialSampler(ds), 3, True))
        out[lib.__name__] = (
            len(both), plain(both[12]), plain(both[-1]), len(sub), plain(sub[1]),
            [plain(b) for b in loader], [plain(b) for b in batched], len(batched),
            list(data_mod.BatchSampler(range(7), 3, False)),
            len(data_mod.RandomSampler(ds, replacement=True, num_samples=40)),
        )
    assert out["engine"] == out["torch"]


def test_random_sampler_with_replacement_draws_in_range():
    ds = tensor_dataset(engine, edata, n=6)
    drawn = list(edata.RandomSampler(ds, replacement=True, num_samples=70,
                                     generator=engine.Generator().manual_seed(1)))
    assert len(drawn) == 70 and set(drawn) <= set(range(6))
    perm = list(edata.SubsetRandomSampler([10, 20, 30]))
    assert sorted(perm) == [10, 20, 30]


def test_iterable_dataset_batches_match_torch():
    out = {}
    for lib, data_mod in LIBS:
        class Stream(data_mod.IterableDataset):
            def __iter__(self, lib=lib):
                return iter(lib.tensor([float(i)]) for i in range(7))

        batches = [plain(b) for b in data_mod.DataLoader(Stream(), batch_size=3)]
        dropped = [plain(b) for b in data_mod.DataLoader(Stream(), batch_size=3,
                                                         drop_last=True)]
        single = [plain(b) for b in data_mod.DataLoader(Stream(), batch_size=None)]
        out[lib.__name__] = (batches, dropped, single)
    assert out["engine"] == out["torch"]
