"""Samplers: which indices a DataLoader reads, and in which batches (torch.utils.data.sampler).

``RandomSampler`` without a generator seeds a fresh one from a 64-bit draw of the default
generator (torch's ``empty((), dtype=int64).random_()``), then yields ``randperm(n)``; with a
generator it draws the permutation from it directly.
"""

from __future__ import annotations

import itertools

import engine

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler"]

_MODULE = "torch.utils.data.sampler"


class Sampler:
    __module__ = _MODULE

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    __module__ = _MODULE

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    __module__ = _MODULE

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(
                "replacement should be a boolean value, but got "
                f"replacement={self.replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        if self.generator is None:
            generator = engine.Generator()
            generator.manual_seed(int(engine.empty((), dtype=engine.int64).random_().item()))
        else:
            generator = self.generator
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from engine.randint(0, n, (32,), dtype=engine.int64,
                                          generator=generator).tolist()
            yield from engine.randint(0, n, (self.num_samples % 32,), dtype=engine.int64,
                                      generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from engine.randperm(n, generator=generator).tolist()
            yield from engine.randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    __module__ = _MODULE

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in engine.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size``."""

    __module__ = _MODULE

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            groups = zip(*[sampler_iter] * self.batch_size, strict=False)  # full batches only
            yield from (list(batch) for batch in groups)
            return
        batch = list(itertools.islice(sampler_iter, self.batch_size))
        while batch:
            yield batch
            batch = list(itertools.islice(sampler_iter, self.batch_size))

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
