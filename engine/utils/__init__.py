"""``torch.utils``: ``data`` (datasets and loaders) and ``hooks`` (removable hook handles)."""

from . import data, hooks

__all__ = ["data", "hooks"]
