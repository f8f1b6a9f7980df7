"""Every piece of global state a program can change on a backend, read before and restored after
each run, so that no verdict depends on which spec ran before in the same process.

A spec that calls `torch.set_printoptions(precision=1)` or `torch.set_default_dtype(torch.float64)`
would otherwise change what every later program in its worker prints or makes, on PyTorch's side
only. `Snapshot(module)` reads each setting the backend has (the engine has fewer); `restore`
writes back the ones that changed and names them, so the spec that changed them gets a warning.
The random number generator is restored too, silently: drawing numbers is not a setting, but
every example must start from the same state.

`tests/harness/run/test_global_state.py` checks that every setter PyTorch offers in the
namespaces a program may use is covered here or listed in `NOT_STATE` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np


@dataclass(frozen=True)
class Setting:
    name: str  # what a program calls to change it: the warning's wording
    read: Callable[[ModuleType], object]
    #: None when it cannot be changed back (the warning says so)
    write: Callable[[ModuleType, object], None] | None
    reported: bool = True  # False: restored without a warning (the RNG)


def _print_options(torch) -> tuple:
    options = torch._tensor_str.PRINT_OPTS
    return tuple(getattr(options, k) for k in _PRINT_FIELDS)


def _set_print_options(torch, value) -> None:
    torch.set_printoptions(**dict(zip(_PRINT_FIELDS, value, strict=True)))


_PRINT_FIELDS = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
#: A denormal double: x86's flush-to-zero (`torch.set_flush_denormal(True)`, per thread, which
#: numpy and Python floats share) reads it as 0. A variable, so the compiler cannot fold it.
_DENORMAL = [5e-324]


def _flushes_denormals(torch) -> bool:
    return _DENORMAL[0] * 1.0 == 0.0


def _deterministic(torch) -> tuple:
    return (torch.get_deterministic_debug_mode(), torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled())


def _set_deterministic(torch, value) -> None:
    debug, enabled, warn_only = value
    torch.set_deterministic_debug_mode(debug)
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


#: The device types torch.set_autocast_enabled accepts on a CPU build.
_AUTOCAST_DEVICES = ("cpu", "cuda", "xpu", "ipu", "xla", "hpu", "mps")


def _autocast(torch) -> tuple:
    return (tuple((torch.is_autocast_enabled(d), torch.get_autocast_dtype(d))
                  for d in _AUTOCAST_DEVICES), torch.is_autocast_cache_enabled(),
            _autocast_nesting(torch))


def _autocast_nesting(torch) -> int:
    level = torch.autocast_increment_nesting() - 1
    torch.autocast_decrement_nesting()
    return level


def _set_autocast(torch, value) -> None:
    devices, cache, nesting = value
    for d, (enabled, dtype) in zip(_AUTOCAST_DEVICES, devices, strict=True):
        torch.set_autocast_enabled(d, enabled)
        torch.set_autocast_dtype(d, dtype)
    torch.set_autocast_cache_enabled(cache)
    while _autocast_nesting(torch) > nesting:
        torch.autocast_decrement_nesting()
    while _autocast_nesting(torch) < nesting:
        torch.autocast_increment_nesting()


def _dual_level(torch) -> int:
    return torch.autograd.forward_ad._current_level


def _exit_dual_levels(torch, level) -> None:
    while torch.autograd.forward_ad._current_level > level:
        torch.autograd.forward_ad.exit_dual_level()


def _set_default_device(torch, device) -> None:
    torch.set_default_device(None if str(device) == "cpu" else device)


SETTINGS: tuple[Setting, ...] = (
    Setting("torch.set_grad_enabled", lambda t: t.is_grad_enabled(),
            lambda t, v: t.set_grad_enabled(v)),
    Setting("torch.inference_mode", lambda t: t.is_inference_mode_enabled(), None),
    Setting("torch.set_anomaly_enabled", lambda t: (t.is_anomaly_enabled(),
                                                    t.is_anomaly_check_nan_enabled()),
            lambda t, v: t.set_anomaly_enabled(*v)),
    Setting("torch.autograd.set_multithreading_enabled",
            lambda t: t.autograd.is_multithreading_enabled(),
            lambda t, v: t.autograd.set_multithreading_enabled(v)),
    Setting("torch.autograd.forward_ad.enter_dual_level", _dual_level, _exit_dual_levels),
    Setting("torch.autograd.graph.set_warn_on_accumulate_grad_stream_mismatch",
            lambda t: t._C._warn_on_accumulate_grad_stream_mismatch(),
            lambda t, v: t.autograd.graph.set_warn_on_accumulate_grad_stream_mismatch(v)),
    Setting("torch.autograd.graph.set_override_stale_capture_stream",
            lambda t: t._C._override_stale_capture_stream(),
            lambda t, v: t.autograd.graph.set_override_stale_capture_stream(v)),
    Setting("torch.set_printoptions", _print_options, _set_print_options),
    Setting("torch.set_default_dtype", lambda t: t.get_default_dtype(),
            lambda t, v: t.set_default_dtype(v)),
    Setting("torch.set_default_device", lambda t: str(t.get_default_device()),
            _set_default_device),
    Setting("torch.set_flush_denormal", _flushes_denormals,
            lambda t, v: t.set_flush_denormal(v)),
    Setting("torch.use_deterministic_algorithms", _deterministic, _set_deterministic),
    Setting("torch.set_float32_matmul_precision", lambda t: t.get_float32_matmul_precision(),
            lambda t, v: t.set_float32_matmul_precision(v)),
    Setting("torch.set_warn_always", lambda t: t.is_warn_always_enabled(),
            lambda t, v: t.set_warn_always(v)),
    Setting("torch.set_autocast_enabled", _autocast, _set_autocast),
    Setting("torch.set_num_threads", lambda t: t.get_num_threads(),
            lambda t, v: t.set_num_threads(v)),
    Setting("torch.set_num_interop_threads", lambda t: t.get_num_interop_threads(), None),
    Setting("torch.manual_seed", lambda t: t.get_rng_state(), lambda t, v: t.set_rng_state(v),
            reported=False),
)

#: Setters a program can reach that change no state `SETTINGS` must restore, and why.
NOT_STATE = {
    "torch.autocast": "a context manager: its exit restores what it changed",
    "torch.enable_grad": "a context manager", "torch.no_grad": "a context manager",
    "torch.optim.swap_in_optimizer_params_and_state":
        "a context manager over one optimizer's own parameters and state",
    "torch.inference_mode": "a context manager (a program cannot call __enter__)",
    "torch.autocast_increment_nesting": "torch.set_autocast_enabled's setting",
    "torch.autocast_decrement_nesting": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_cache_enabled": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_dtype": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_cpu_dtype": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_cpu_enabled": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_gpu_dtype": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_ipu_dtype": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_ipu_enabled": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_xla_dtype": "torch.set_autocast_enabled's setting",
    "torch.set_autocast_xla_enabled": "torch.set_autocast_enabled's setting",
    "torch.set_default_tensor_type": "torch.set_default_dtype's setting (CPU types only)",
    "torch.set_deterministic_debug_mode": "torch.use_deterministic_algorithms's setting",
    "torch.set_anomaly_enabled": "a setting", "torch.set_default_dtype": "a setting",
    "torch.set_default_device": "a setting", "torch.set_flush_denormal": "a setting",
    "torch.set_float32_matmul_precision": "a setting", "torch.set_grad_enabled": "a setting",
    "torch.set_num_threads": "a setting", "torch.set_printoptions": "a setting",
    "torch.set_warn_always": "a setting", "torch.use_deterministic_algorithms": "a setting",
    "torch.set_num_interop_threads": "a setting (reported: PyTorch refuses to change it back)",
    "torch.manual_seed": "the RNG's state", "torch.seed": "the RNG's state",
    "torch.set_rng_state": "the RNG's state", "torch.random.manual_seed": "the RNG's state",
    "torch.random.seed": "the RNG's state", "torch.random.set_rng_state": "the RNG's state",
    "torch.random.fork_rng": "a context manager over the RNG's state",
    "torch.swapaxes": "an op", "torch.swapdims": "an op",
    "torch.autograd.enable_grad": "a context manager", "torch.autograd.no_grad": "a context "
    "manager", "torch.autograd.inference_mode": "a context manager",
    "torch.autograd.detect_anomaly": "a context manager",
    "torch.autograd.set_detect_anomaly": "torch.set_anomaly_enabled's setting",
    "torch.autograd.set_grad_enabled": "torch.set_grad_enabled's setting",
    "torch.autograd.set_multithreading_enabled": "a setting",
    "torch.autograd.forward_ad.enter_dual_level": "a setting (the current level)",
    "torch.autograd.forward_ad.exit_dual_level": "enter_dual_level's setting",
    "torch.autograd.graph.allow_mutation_on_saved_tensors": "a context manager",
    "torch.autograd.graph.disable_saved_tensors_hooks": "a context manager",
    "torch.autograd.graph.increment_version": "a tensor's version counter",
    "torch.autograd.graph.register_multi_grad_hook": "hooks on the program's own tensors",
    "torch.autograd.graph.set_override_stale_capture_stream": "a setting",
    "torch.autograd.graph.set_warn_on_accumulate_grad_stream_mismatch": "a setting",
    "torch.utils.set_module": "writes an object's __module__ (a name, not a behaviour)",
    "torch.utils.swap_tensors": "swaps two of the program's own tensors",
}

_ABSENT = object()


def _read(setting: Setting, module: ModuleType):
    try:
        return setting.read(module)
    except (AttributeError, TypeError):  # a backend without this setting (the engine)
        return _ABSENT


def _same(a, b) -> bool:
    if hasattr(a, "shape"):  # a state tensor
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def _has(module: ModuleType, name: str) -> bool:
    """Whether the backend has the function a setting is named after (`torch.X.Y` → X.Y)."""
    obj = module
    for part in name.split(".")[1:]:
        obj = getattr(obj, part, _ABSENT)
        if obj is _ABSENT:
            return False
    return True


class Snapshot:
    """The settings of one backend as they are now (right after it was loaded): those whose
    setter the backend has."""

    def __init__(self, module: ModuleType):
        self.values = {s.name: v for s in SETTINGS
                       if _has(module, s.name) and (v := _read(s, module)) is not _ABSENT}
        #: what `restore` found changed since `take_changed` was last called
        self.changed: set[str] = set()

    def take_changed(self) -> list[str]:
        """The settings programs changed since the last call (for one item's warning)."""
        changed, self.changed = sorted(self.changed), set()
        return changed

    def restore(self, module: ModuleType) -> list[str]:
        """Write back what changed since the snapshot; the names of the reported settings that
        had changed ("… (cannot be changed back)" for those that could not be restored)."""
        changed = []
        for setting in SETTINGS:
            if setting.name not in self.values:
                continue
            before = self.values[setting.name]
            if setting.write is not None and setting.reported is False:
                setting.write(module, before)  # cheaper than reading it to compare
                continue
            if _same(setting.read(module), before):
                continue
            if setting.write is None:
                changed.append(f"{setting.name} (cannot be changed back)")
                continue
            setting.write(module, before)
            changed.append(setting.name)
        self.changed.update(changed)
        return changed
