"""One OpInfo sample on PyTorch and on the engine, compared check by check.

Each sample is built afresh from its literal description on both backends for every call, so
no call sees another's graph or in-place change. What is compared, in order:

- the op's primary form (its function, else its method or alias): the outputs' values (the
  tolerance policy of specs: `harness.run.compare`), shape, dtype, `requires_grad`, grad_fn class
  name and contiguity; an exception PyTorch raises must be raised too (class, then message);
- a vector-Jacobian product with a random cotangent (seeded, the same array on both sides) for
  every input that requires grad: `None` where PyTorch gives `None`, values under tolerance;
- the second-order product (the first one's grads with a second random cotangent, through
  `create_graph=True`, with respect to the inputs and the first cotangents) where the entry
  supports gradgrad;
- every other form (method, in-place on a clone of the input, operators, aliases) on both
  backends, forward and backward; a form the engine does not offer fails; an in-place form on
  an input that would have to broadcast must raise as PyTorch does;
- error samples: the exception class, then the message: exactly PyTorch's, else matching the
  entry's pattern, else class only, and which level matched is recorded.

A float16/float32 value or grad outside tolerance is arbitrated: PyTorch recomputes it in
float64 from the same sample, and the finding says which side is closer. Ops that draw random
numbers run seeded alike on both sides, and their values are compared; values PyTorch's own
tests call non-deterministic or undefined for ops that draw none (`empty`) are not.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from harness.contract import MESSAGE_LEVELS, ONE_SIDE_NONE, OPINFO_CHECKS
from harness.opinfo import samples as literals
from harness.opinfo.corpus import FLOATING, UNINITIALISED, Entry, seed_for
from harness.opinfo.resolve import Form, Resolution, rebind
from harness.run.compare import PYTHON_FLOAT_TOLERANCE, TOLERANCES, measure
from harness.run.trace import normalise

#: The checks of an OpInfo sample, in report order (named once, in harness.contract).
CHECKS = tuple(OPINFO_CHECKS)
FORWARD = ("values", "shape", "dtype", "requires_grad", "grad_fn", "contiguity")
PASS, FAIL, NA = "pass", "fail", "n/a"
#: How an engine's error message matched PyTorch's, best first.
EXACT, PATTERN, CLASS_ONLY, NO_MATCH = MESSAGE_LEVELS
SEED = 42  # what OpInfo's wrapper_set_seed seeds random ops with


@dataclass
class Finding:
    """One thing that differs in one sample."""

    check: str
    form: str  # the form's spelling: torch.add, Tensor.add_, operator.iadd
    where: str  # out, out[1], grad t0, gradgrad t1, exception
    torch: str
    engine: str
    detail: str = ""
    kind: str = ""  # short, for grouping failures: "values differ", "engine raised TypeError"
    measure: dict | None = None
    closer: str | None = None  # precision arbitration: "engine", "torch" or "tie"

    def describe(self) -> str:
        text = (f"{self.check} [{self.form}] {self.where}: {self.kind}\n"
                f"    torch : {_indent(self.torch)}\n    engine: {_indent(self.engine)}")
        return text + (f"\n    {self.detail}" if self.detail else "")


def _indent(text: str) -> str:
    return text.replace("\n", "\n            ")


@dataclass
class SampleResult:
    label: str
    checks: dict[str, str] = field(default_factory=lambda: dict.fromkeys(CHECKS, NA))
    findings: list[Finding] = field(default_factory=list)
    message_level: str | None = None  # error samples: EXACT, PATTERN, CLASS_ONLY or NO_MATCH
    skipped: str = ""  # why the sample did not run ("" if it ran)
    grad_fns: set[str] = field(default_factory=set)  # of PyTorch's outputs, for coverage

    @property
    def passed(self) -> bool:
        return not self.skipped and FAIL not in self.checks.values()

    def ran(self, check: str) -> None:
        if self.checks[check] == NA:
            self.checks[check] = PASS

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.checks[finding.check] = FAIL


@dataclass
class Context:
    """What every sample of one item shares."""

    torch: object  # the torch module
    engine: object  # the engine module
    resolution: Resolution
    info: object  # the OpInfo entry
    dtype: str
    seed: int  # the item's seed: cotangents derive from it
    backward: bool = False  # the entry is differentiable in this dtype
    gradgrad: bool = False  # ... and supports double backward
    values_unspecified: bool = False  # PyTorch's values are no contract: not compared

    @classmethod
    def make(cls, torch, engine, resolution: Resolution, entry: Entry, dtype: str, seed: int):
        info = entry.info
        backward = bool(info.supports_autograd) and dtype in {
            _dtype_name(d) for d in info.supported_backward_dtypes("cpu")}
        # Random ops are seeded alike on both sides (OpInfo's wrapper_set_seed): their values
        # are compared. Uninitialised memory (`empty`) and undefined results are not.
        reason = entry.values_unspecified
        unspecified = bool(reason) and (reason == UNINITIALISED or not resolution.seeded)
        return cls(torch, engine, resolution, info, dtype, seed, backward,
                   backward and bool(info.supports_gradgrad), unspecified)


@dataclass
class Run:
    """One call of one form on one backend."""

    out: object = None
    error: BaseException | None = None
    tensors: list = field(default_factory=list)  # the sample's leaves, by index


def call(fn, sample: literals.Sample, module, inplace: bool = False, seed: bool = False) -> Run:
    """Build the sample on `module` and call `fn` on it (an in-place form on a clone of the
    input, as PyTorch's variant tests do, so the leaf itself stays untouched). With `seed`,
    the backend's generator is seeded first as OpInfo's wrapper_set_seed does, so that every
    form of a random op draws the same numbers on both backends."""
    run = Run()
    try:
        inp, args, kwargs, run.tensors = literals.build(sample, module)
        if inplace and isinstance(inp, module.Tensor):
            inp = inp.clone()
        if seed:
            module.manual_seed(SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run.out = fn(inp, *args, **kwargs)
    except Exception as exc:  # the op's own error is an observation
        run.error = exc
    finally:
        module.set_grad_enabled(True)
    return run


def _call(ctx: Context, fn, sample: literals.Sample, module, inplace: bool = False) -> Run:
    return call(fn, sample, module, inplace, seed=ctx.resolution.seeded)


def check_sample(ctx: Context, sample: literals.Sample) -> SampleResult:
    """Every check of one sample."""
    result = SampleResult(sample.label)
    primary = ctx.resolution.primary
    if sample.error_type is not None:
        _check_error_sample(ctx, sample, primary, result)
        return result
    t_run = _call(ctx, primary.torch_fn, sample, ctx.torch)
    e_run = _call(ctx, primary.engine_fn, sample, ctx.engine)
    random = ctx.values_unspecified
    result.grad_fns.update(g for _, v in _flatten(t_run.out) if _is_tensor(v)
                           for g in [_grad_fn(v)] if g and not g.startswith("raises "))
    if _forward(ctx, sample, primary, t_run, e_run, result, random, FORWARD):
        _vjp(ctx, sample, primary, t_run, e_run, result, random, "vjp")
        if ctx.gradgrad:
            _gradgrad(ctx, sample, primary, result, random)
    for form in ctx.resolution.forms:
        if form is not primary:
            _variant(ctx, sample, form, result, random)
    return result


# ----------------------------------------------------------------- forward


def _forward(ctx, sample, form: Form, t_run: Run, e_run: Run, result: SampleResult,
             random: bool, checks: tuple[str, ...] | str) -> bool:
    """Compare one call's outcome; True when both returned (so backward can follow)."""
    names = checks if isinstance(checks, tuple) else None

    def check_for(name: str) -> str:
        return name if names else checks

    if t_run.error is not None or e_run.error is not None:
        _compare_errors(t_run.error, e_run.error, form, result,
                        type_check="error_type" if names else checks,
                        message_check="error_message" if names else checks,
                        phase=check_for("values"))
        return False
    findings, ran = compare_outputs(t_run.out, e_run.out, ctx.dtype, random)
    for name in ran:
        result.ran(check_for(name))
    for f in findings:
        result.add(replace(f, check=check_for(f.check), form=form.spelling))
    if names and any(f.check == "values" and f.closer is None and f.measure for f in findings):
        _arbitrate_forward(ctx, sample, form, t_run, e_run, result)
    return True


def compare_outputs(t_out, e_out, dtype: str, random: bool = False, where: str = "out"
                    ) -> tuple[list[Finding], set[str]]:
    """(findings, checks exercised) of two outputs: tensors, sequences, Python values."""
    import torch

    findings: list[Finding] = []
    ran: set[str] = set()

    def add(check, at, tv, ev, kind, detail="", measured=None):
        findings.append(Finding(check, "", at, tv, ev, detail, kind, measured))

    def walk(t, e, at):
        if isinstance(t, torch.Tensor):
            if not _is_tensor(e):
                ran.add("values")
                add("values", at, "a Tensor", _kind_of(e), "not a tensor")
                return
            ran.update(FORWARD)
            _compare_tensor(t, e, at, dtype, random, add)
            return
        if isinstance(t, list | tuple) and not isinstance(t, torch.Size):
            ran.add("values")
            if not isinstance(e, list | tuple) or len(e) != len(t) or \
                    isinstance(e, list) != isinstance(t, list):
                add("values", at, _kind_of(t), _kind_of(e), "structure differs")
                return
            for i, (ti, ei) in enumerate(zip(t, e, strict=True)):
                walk(ti, ei, f"{at}[{i}]")
            return
        ran.add("values")
        problem = _python_difference(t, e, dtype)
        if problem:
            add("values", at, repr(t), repr(e), problem)

    walk(t_out, e_out, where)
    return findings, ran


def _is_tensor(value) -> bool:
    return hasattr(value, "grad_fn") and hasattr(value, "is_contiguous")


def _kind_of(value) -> str:
    if _is_tensor(value):
        return f"a Tensor of shape {tuple(value.shape)}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"


def _layout(t) -> str:
    return str(getattr(t, "layout", "torch.strided"))


def _compare_tensor(t, e, at: str, dtype: str, random: bool, add) -> None:
    if _layout(t) != _layout(e):
        add("values", at, _layout(t), _layout(e), "layout differs")
        return
    t_dtype, e_dtype = _dtype_name(t.dtype), _dtype_name(e.dtype)
    if t_dtype != e_dtype:
        add("dtype", at, t_dtype, e_dtype, "dtype differs")
    if tuple(t.shape) != tuple(e.shape):
        add("shape", at, str(tuple(t.shape)), str(tuple(e.shape)), "shape differs")
    elif not random and t_dtype == e_dtype:
        detail, measured = array_difference(_numpy(t), _numpy(e), t_dtype)
        if detail:
            add("values", at, _show(t), _show(e), "values differ", detail, measured)
    if bool(t.requires_grad) != bool(e.requires_grad):
        add("requires_grad", at, repr(bool(t.requires_grad)), repr(bool(e.requires_grad)),
            "requires_grad differs")
    t_fn, e_fn = _grad_fn(t), _grad_fn(e)
    if t_fn != e_fn:
        add("grad_fn", at, repr(t_fn), repr(e_fn), "grad_fn differs")
    if bool(t.is_contiguous()) != bool(e.is_contiguous()):
        add("contiguity", at, f"is_contiguous() {t.is_contiguous()}",
            f"is_contiguous() {e.is_contiguous()}", "contiguity differs")


def array_difference(t: np.ndarray, e: np.ndarray, dtype: str) -> tuple[str, dict | None]:
    """("", None) when close under the specs' tolerance for the dtype (exact for integers and
    bools), else the description and the measured numbers."""
    if dtype not in TOLERANCES:  # integers, bools exactly; complex exactly, NaN equal to NaN
        bad = t != e
        if t.dtype.kind == "c":
            bad &= ~(np.isnan(t) & np.isnan(e))
        if not bad.any():
            return "", None
        first = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        return f"{int(bad.sum())} of {bad.size} elements differ; first at {first}", None
    rtol, atol = TOLERANCES[dtype]
    m = measure(t, e, rtol, atol)
    if m is None or m.bad is None:
        return "", None
    return m.describe(t, e, rtol, atol), m.as_dict(t, e, rtol, atol)


def _python_difference(t, e, dtype: str) -> str:
    import torch

    if isinstance(t, torch.Size | torch.dtype) or type(t).__module__.startswith("torch"):
        if str(t).removeprefix("torch.") != str(e).removeprefix("torch.") \
                or type(t).__name__ != type(e).__name__:
            return "value differs"
        return ""
    if type(t) is not type(e):
        return f"type differs ({type(t).__name__} vs {type(e).__name__})"
    if isinstance(t, float):
        rtol, atol = TOLERANCES.get(dtype, PYTHON_FLOAT_TOLERANCE)
        if not np.isclose(e, t, rtol=rtol, atol=atol, equal_nan=True):
            return f"value differs (abs diff {abs(t - e):.3g})"
        return ""
    return "" if t == e else "value differs"


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _grad_fn(t) -> str | None:
    try:
        return None if t.grad_fn is None else type(t.grad_fn).__name__
    except RuntimeError as exc:
        return f"raises RuntimeError: {normalise(str(exc))}"


def _numpy(t) -> np.ndarray:
    t = t.detach()
    if _layout(t) != "torch.strided":  # a sparse result: its values, densely
        t = t.to_dense()
    name = _dtype_name(t.dtype)
    if name == "bfloat16":  # numpy has neither: the values are exact in the wider dtype
        t = t.float()
    elif name == "complex32":
        t = t.cfloat()
    try:
        return np.array(t.numpy(), copy=True)
    except RuntimeError:  # PyTorch's ZeroTensor (a grad known to be zero) needs force=True
        return np.array(t.numpy(force=True), copy=True)


def _show(t) -> str:
    values = np.array2string(_numpy(t), precision=8, threshold=40, separator=", ")
    return f"{values} ({_dtype_name(t.dtype)})"


# ----------------------------------------------------------------- exceptions


def _compare_errors(t_exc, e_exc, form: Form, result: SampleResult, type_check: str,
                    message_check: str, phase: str, regex: str = "") -> str | None:
    """Compare the exceptions of one call (either may be None); return the message level."""
    if t_exc is None:  # only the engine raised
        result.add(Finding(phase, form.spelling, "exception", "(no exception)",
                           _exception(e_exc), kind=f"engine raised {type(e_exc).__name__}"))
        return None
    result.ran(type_check)
    if e_exc is None:
        result.add(Finding(type_check, form.spelling, "exception", _exception(t_exc),
                           "(no exception)", kind="engine did not raise"))
        return NO_MATCH
    if type(t_exc).__name__ != type(e_exc).__name__:
        result.add(Finding(type_check, form.spelling, "exception", _exception(t_exc),
                           _exception(e_exc), kind="exception class differs"))
        return NO_MATCH
    result.ran(message_check)
    level = message_level(str(t_exc), str(e_exc), regex)
    if level == CLASS_ONLY:
        result.add(Finding(message_check, form.spelling, "exception", _exception(t_exc),
                           _exception(e_exc), f"pattern {regex!r}" if regex else "",
                           kind="exception message differs"))
    return level


def message_level(torch_message: str, engine_message: str, regex: str = "") -> str:
    """EXACT when the messages agree (addresses and build paths normalised), PATTERN when the
    entry's pattern finds the engine's, CLASS_ONLY otherwise."""
    if normalise(torch_message) == normalise(engine_message):
        return EXACT
    if regex and re.search(regex, engine_message):
        return PATTERN
    return CLASS_ONLY


def _exception(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {normalise(str(exc))}"


def _check_error_sample(ctx: Context, sample, primary: Form, result: SampleResult) -> None:
    t_run = _call(ctx, primary.torch_fn, sample, ctx.torch)
    if not isinstance(t_run.error, sample.error_type):
        got = "nothing" if t_run.error is None else _exception(t_run.error)
        result.skipped = (f"PyTorch raised {got}, not the {sample.error_type.__name__} its "
                          "OpInfo expects")
        return
    e_run = _call(ctx, primary.engine_fn, sample, ctx.engine)
    result.message_level = _compare_errors(
        t_run.error, e_run.error, primary, result, "error_type", "error_message",
        "error_type", sample.error_regex)


# ----------------------------------------------------------------- backward


@dataclass
class Product:
    """What one side's vector-Jacobian product gave (or raised)."""

    grads: tuple | None = None
    error: BaseException | None = None


def differentiable_outputs(t_out, e_out, process_t, process_e):
    """(paths, torch outputs, engine outputs) of the processed outputs PyTorch says require
    grad; the engine's are taken at the same paths (whatever they are)."""
    import torch

    t_flat = _flatten(process_t(t_out) if process_t else t_out)
    try:
        e_flat = dict(_flatten(process_e(e_out) if process_e else e_out))
    except Exception:  # the processing failed on the engine's outputs: the grad call says so
        e_flat = {}
    paths = [p for p, v in t_flat
             if isinstance(v, torch.Tensor) and v.requires_grad and v.is_floating_point()]
    t_map = dict(t_flat)
    return paths, [t_map[p] for p in paths], [e_flat.get(p) for p in paths]


def _flatten(value, at: str = "out") -> list[tuple[str, object]]:
    if isinstance(value, list | tuple) and not _is_tensor(value):
        return [item for i, v in enumerate(value) for item in _flatten(v, f"{at}[{i}]")]
    return [(at, value)]


def cotangent(seed: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """A random cotangent (standard normal, not ones: ones hide transposed or summed grads),
    rounded to `dtype` (held in float32 for bfloat16, which numpy lacks)."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    if dtype == "bfloat16":
        import torch

        return torch.tensor(values).to(torch.bfloat16).float().numpy()
    return values.astype(np.dtype(dtype))


def as_tensors(module, arrays: list[np.ndarray], like, requires_grad: bool = False) -> list:
    """Cotangents on `module`, each in the dtype of the PyTorch tensor it goes with."""
    return [module.tensor(a, dtype=getattr(module, _dtype_name(t.dtype)),
                          requires_grad=requires_grad) for a, t in zip(arrays, like, strict=True)]


def cotangents(ctx: Context, sample, form: Form, paths: list[str], tensors) -> list[np.ndarray]:
    """The cotangent of each output (by its path) of one form on one sample: the same arrays
    on both backends, and in a repro of the sample."""
    return [cotangent(seed_for(str(ctx.seed), sample.label, form.spelling, path),
                      tuple(t.shape), _dtype_name(t.dtype))
            for path, t in zip(paths, tensors, strict=True)]


def _product(module, outputs, inputs, cotangents, create_graph=False) -> Product:
    try:
        grads = module.autograd.grad(outputs, inputs, cotangents, allow_unused=True,
                                     create_graph=create_graph)
        return Product(tuple(grads))
    except Exception as exc:
        return Product(error=exc)


def _vjp(ctx, sample, form: Form, t_run: Run, e_run: Run, result: SampleResult, random: bool,
         check: str, none_check: str | None = "vjp_none") -> None:
    if not ctx.backward:
        return
    process_e = _engine_process(ctx, sample)
    paths, t_outs, e_outs = differentiable_outputs(t_run.out, e_run.out, sample.process,
                                                    process_e)
    wanted = [i for i, t in enumerate(sample.tensors) if t.requires_grad]
    if not paths or not wanted:
        return
    arrays = cotangents(ctx, sample, form, paths, t_outs)
    t_prod = _product(ctx.torch, t_outs, [t_run.tensors[i] for i in wanted],
                      as_tensors(ctx.torch, arrays, t_outs))
    e_prod = _product(ctx.engine, e_outs, [e_run.tensors[i] for i in wanted],
                      as_tensors(ctx.engine, arrays, t_outs))
    result.ran(check)
    if none_check:
        result.ran(none_check)
    _compare_products(ctx, form, t_prod, e_prod, wanted, "grad", result, check,
                      none_check or check, random)
    if check == "vjp" and any(f.check == "vjp" and f.measure for f in result.findings):
        _arbitrate_vjp(ctx, sample, form, arrays, e_prod, wanted, result)


def _compare_products(ctx, form: Form, t_prod: Product, e_prod: Product, wanted: list[int],
                      label: str, result: SampleResult, check: str, none_check: str,
                      random: bool, names: list[str] | None = None) -> None:
    if t_prod.error is not None or e_prod.error is not None:
        _compare_errors(t_prod.error, e_prod.error, form, result, check, check, check)
        return
    names = names or [f"t{i}" for i in wanted]
    for name, tg, eg in zip(names, t_prod.grads, e_prod.grads, strict=False):
        at = f"{label} {name}"
        if (tg is None) != (eg is None):
            result.add(Finding(none_check, form.spelling, at, _grad_text(tg), _grad_text(eg),
                               ONE_SIDE_NONE, "None vs tensor"))
            continue
        if tg is None or random:
            continue
        if not _is_tensor(eg):
            result.add(Finding(check, form.spelling, at, "a Tensor", _kind_of(eg),
                               kind="not a tensor"))
            continue
        t_dtype, e_dtype = _dtype_name(tg.dtype), _dtype_name(eg.dtype)
        if t_dtype != e_dtype or tuple(tg.shape) != tuple(eg.shape):
            result.add(Finding(check, form.spelling, at,
                               f"{tuple(tg.shape)} {t_dtype}", f"{tuple(eg.shape)} {e_dtype}",
                               kind="grad shape or dtype differs"))
            continue
        detail, measured = array_difference(_numpy(tg), _numpy(eg), t_dtype)
        if detail:
            result.add(Finding(check, form.spelling, at, _show(tg), _show(eg), detail,
                               f"{label} values differ", measured))
    if len(t_prod.grads) != len(e_prod.grads):
        result.add(Finding(check, form.spelling, label, f"{len(t_prod.grads)} grads",
                           f"{len(e_prod.grads)} grads", kind="number of grads differs"))


def _grad_text(g) -> str:
    return "None" if g is None else f"a Tensor of shape {tuple(g.shape)}"


def _engine_process(ctx: Context, sample):
    """The sample's output_process_fn_grad on the engine (rebound: it may call torch.X)."""
    import types

    if sample.process is None:
        return None
    if isinstance(sample.process, types.FunctionType):
        return rebind(sample.process, ctx.engine)
    return sample.process


def _gradgrad(ctx: Context, sample, form: Form, result: SampleResult, random: bool) -> None:
    """Second order: d/d(inputs, cotangents) of <grads, w> through create_graph=True."""
    t_run = _call(ctx, form.torch_fn, sample, ctx.torch)
    e_run = _call(ctx, form.engine_fn, sample, ctx.engine)
    if t_run.error is not None or e_run.error is not None:
        return  # the forward check reported it
    paths, t_outs, e_outs = differentiable_outputs(t_run.out, e_run.out, sample.process,
                                                    _engine_process(ctx, sample))
    wanted = [i for i, t in enumerate(sample.tensors) if t.requires_grad]
    if not paths or not wanted:
        return
    arrays = cotangents(ctx, sample, form, paths, t_outs)
    sides = []
    for module, run, outs in ((ctx.torch, t_run, t_outs), (ctx.engine, e_run, e_outs)):
        cots = as_tensors(module, arrays, t_outs, requires_grad=True)
        inputs = [run.tensors[i] for i in wanted]
        sides.append((module, inputs, cots, _product(module, outs, inputs, cots, True)))
    (_, t_in, t_cots, t_first), (_, e_in, e_cots, e_first) = sides
    if t_first.error is not None or e_first.error is not None:
        _compare_errors(t_first.error, e_first.error, form, result, "gradgrad", "gradgrad",
                        "gradgrad")
        return
    chosen = [i for i, g in enumerate(t_first.grads) if g is not None and g.requires_grad]
    if not chosen:
        return
    result.ran("gradgrad")
    for i in chosen:
        eg = e_first.grads[i] if i < len(e_first.grads) else None
        if not (_is_tensor(eg) and eg.requires_grad):
            result.add(Finding("gradgrad", form.spelling, f"grad t{wanted[i]}",
                               "requires_grad True (create_graph=True)",
                               "None" if eg is None else f"requires_grad {eg.requires_grad}",
                               kind="create_graph grad does not require grad"))
    if result.checks["gradgrad"] == FAIL:
        return
    second = cotangents(ctx, sample, form, [f"gg{i}" for i in chosen],
                        [t_first.grads[i] for i in chosen])
    t_prod = _product(ctx.torch, [t_first.grads[i] for i in chosen], t_in + t_cots,
                      as_tensors(ctx.torch, second, [t_first.grads[i] for i in chosen]))
    e_grads = [e_first.grads[i] if i < len(e_first.grads) else None for i in chosen]
    e_prod = _product(ctx.engine, e_grads, e_in + e_cots,
                      as_tensors(ctx.engine, second, [t_first.grads[i] for i in chosen]))
    names = [f"t{i}" for i in wanted] + [f"cotangent {p}" for p in paths]
    _compare_products(ctx, form, t_prod, e_prod, wanted, "gradgrad", result, "gradgrad",
                      "gradgrad", random, names)


# ----------------------------------------------------------------- other forms


def _variant(ctx: Context, sample, form: Form, result: SampleResult, random: bool) -> None:
    check = "inplace_broadcast" if form.inplace and sample.broadcasts_input else "variants"
    result.ran(check)
    if not form.offered:
        result.add(Finding(check, form.spelling, "form", "offered", "not offered",
                           f"the engine lacks {', '.join(form.missing)}", "form not offered"))
        return
    t_run = _call(ctx, form.torch_fn, sample, ctx.torch, form.inplace)
    e_run = _call(ctx, form.engine_fn, sample, ctx.engine, form.inplace)
    if _forward(ctx, sample, form, t_run, e_run, result, random, check):
        if not form.inplace or ctx.info.supports_inplace_autograd:
            _vjp(ctx, sample, form, t_run, e_run, result, random, check, None)


# ----------------------------------------------------------------- precision arbitration


def _float64(sample: literals.Sample, dtype: str) -> literals.Sample:
    """The sample with its `dtype` tensors in float64 (the reference PyTorch recomputes)."""
    tensors = [replace(t, values=t.values.astype(np.float64), dtype="float64")
               if t.dtype == dtype else t for t in sample.tensors]
    return replace(sample, tensors=tensors)


def _closer(t: np.ndarray, e: np.ndarray, reference: np.ndarray) -> str:
    with np.errstate(invalid="ignore", over="ignore"):
        t_err = np.abs(t.astype(np.float64) - reference)
        e_err = np.abs(e.astype(np.float64) - reference)
    t_err = np.where(np.isnan(t_err), np.where(np.isnan(reference) & np.isnan(t), 0, np.inf),
                     t_err)
    e_err = np.where(np.isnan(e_err), np.where(np.isnan(reference) & np.isnan(e), 0, np.inf),
                     e_err)
    t_worst, e_worst = float(t_err.max(initial=0)), float(e_err.max(initial=0))
    if e_worst < t_worst:
        return "engine"
    return "torch" if t_worst < e_worst else "tie"


def _verdict(finding: Finding, closer: str) -> Finding:
    said = {"engine": "the engine is closer to PyTorch's float64 result",
            "torch": "PyTorch is closer to its float64 result",
            "tie": "both are as far from PyTorch's float64 result"}[closer]
    kind = f"{finding.kind} ({'engine' if closer == 'engine' else 'torch'} closer to float64)"
    return replace(finding, closer=closer, kind=kind, detail=f"{finding.detail}; {said}")


def _arbitrate_forward(ctx, sample, form: Form, t_run: Run, e_run: Run,
                       result: SampleResult) -> None:
    if ctx.dtype not in FLOATING or ctx.dtype == "float64":
        return
    reference = _call(ctx, form.torch_fn, _float64(sample, ctx.dtype), ctx.torch)
    if reference.error is not None:
        return
    found = dict(_flatten(reference.out))
    t_found, e_found = dict(_flatten(t_run.out)), dict(_flatten(e_run.out))
    for i, f in enumerate(result.findings):
        if f.check != "values" or f.measure is None or f.closer is not None \
                or f.form != form.spelling or f.where not in found:
            continue
        ref = found[f.where]
        if _is_tensor(ref) and tuple(ref.shape) == tuple(t_found[f.where].shape):
            result.findings[i] = _verdict(f, _closer(_numpy(t_found[f.where]),
                                                     _numpy(e_found[f.where]),
                                                     _numpy(ref).astype(np.float64)))


def _arbitrate_vjp(ctx, sample, form: Form, arrays, e_prod: Product, wanted,
                   result: SampleResult) -> None:
    if ctx.dtype not in FLOATING or ctx.dtype == "float64" or e_prod.grads is None:
        return
    sample64 = _float64(sample, ctx.dtype)
    run = _call(ctx, form.torch_fn, sample64, ctx.torch)
    if run.error is not None:
        return
    paths, outs, _ = differentiable_outputs(run.out, run.out, sample64.process, None)
    if len(paths) != len(arrays):
        return
    t_run = _call(ctx, form.torch_fn, sample, ctx.torch)
    t_paths, t_outs, _ = differentiable_outputs(t_run.out, t_run.out, sample.process, None)
    reference = _product(ctx.torch, outs, [run.tensors[i] for i in wanted],
                         [ctx.torch.tensor(a.astype(np.float64)) for a in arrays])
    mine = _product(ctx.torch, t_outs, [t_run.tensors[i] for i in wanted],
                    as_tensors(ctx.torch, arrays, t_outs))
    if reference.error is not None or mine.error is not None:
        return
    for i, f in enumerate(result.findings):
        if f.check != "vjp" or f.measure is None or f.closer is not None \
                or f.form != form.spelling:
            continue
        k = wanted.index(int(f.where.rsplit(" t", 1)[1]))
        ref, tg, eg = reference.grads[k], mine.grads[k], e_prod.grads[k]
        if ref is not None and tg is not None and eg is not None:
            result.findings[i] = _verdict(f, _closer(_numpy(tg), _numpy(eg),
                                                     _numpy(ref).astype(np.float64)))
