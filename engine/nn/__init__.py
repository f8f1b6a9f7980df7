"""engine.nn: only the functional namespace so far."""

from . import functional

__all__ = ["functional"]

# Modules, Parameter, init and utils import ``engine`` itself, which imports this package
# first: they load on first access (``engine.nn.Linear``, ``from engine.nn import init``).
_LAZY_SUBMODULES = ("init", "modules", "parameter", "utils")
__all__ += ["Buffer", "Parameter", "init", "utils"]


def __getattr__(name):
    import importlib

    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    modules = importlib.import_module(f"{__name__}.modules")
    parameter = importlib.import_module(f"{__name__}.parameter")
    for source in (modules, parameter):
        if name in source.__all__:
            return getattr(source, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    from .modules import __all__ as names

    return sorted(set(globals()) | set(__all__) | set(names))
