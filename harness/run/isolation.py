"""What a spec item may do to the process that runs it is bounded: each item runs in a forked
child (when the platform can fork), under a memory cap, in an environment without secrets.

- **A child per item.** The parent (the pytest process, or an xdist worker) forks; the child
  runs the item and sends back its result; the parent waits. A child that dies (a C call
  stuck past the time limit ends it with SIGALRM, harness.run.timeout; the kernel's OOM killer;
  a crash in a C extension) costs only its item, recorded as an ERROR saying how it died, and
  the run goes on: a run without `-n` is as safe as a run with workers. Whatever the program
  changed in the process (global settings, caches, memory) dies with the child.
- **Memory.** The child's address space may grow by at most `--parity-memory-limit` beyond
  what it inherited (`RLIMIT_AS`): an allocation past it fails inside the program
  (numpy's MemoryError, PyTorch's "can't allocate memory"), which the runner reports as an
  ERROR naming the limit (harness.run.runner), instead of the machine swapping or the OS
  killing the run.
- **Environment.** Before any program runs, os.environ keeps only what Python, PyTorch,
  numpy, pytest and Hypothesis read (`KEPT`): a program that found a way to read the
  environment would find no token, password or key in it.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import sys
from collections.abc import Callable

#: The default of --parity-memory-limit, in GB: a spec's tensors are small (100 000 elements
#: per input at most); 4 GB leaves room for the traces of long programs.
DEFAULT_MEMORY_LIMIT_GB = 4.0
#: The cap in force in this process (bytes beyond what it had), for error messages; 0: none.
memory_limit_bytes = 0

#: Environment variables a spec item's process keeps (names, and prefixes ending in `_`).
KEPT = re.compile(
    r"^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TERM|TZ|TMPDIR|TEMP|TMP|PWD|LC_.*|"
    r"PYTHON.*|VIRTUAL_ENV|PYTEST_.*|HYPOTHESIS_.*|CI|COLUMNS|LINES|NO_COLOR|FORCE_COLOR|"
    r"OMP_.*|MKL_.*|OPENBLAS_.*|GOTO_.*|KMP_.*|NUMEXPR_.*|NPY_.*|NUMPY_.*|TORCH_.*|PYTORCH_.*|"
    r"CUDA_VISIBLE_DEVICES|LD_LIBRARY_PATH|LD_PRELOAD|PARITY_CHILD)$")


def scrub_environment() -> list[str]:
    """Drop every environment variable a spec program does not need; the names dropped."""
    dropped = sorted(name for name in os.environ if not KEPT.match(name))
    for name in dropped:
        del os.environ[name]
    return dropped


def cap_memory(limit_bytes: int) -> None:
    """Let this process's address space grow by at most `limit_bytes` from now (0: no cap)."""
    global memory_limit_bytes
    if not limit_bytes:
        return
    import resource  # Unix only

    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = used + limit_bytes
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        memory_limit_bytes = limit_bytes
    except (OSError, ValueError):
        pass  # no /proc, or a limit we may not set: run without the cap


def limit_text() -> str:
    """How the cap is named in an error."""
    gb = memory_limit_bytes / 2**30
    return f"--parity-memory-limit {gb:g} GB" if memory_limit_bytes else "the machine's memory"


_OUT_OF_MEMORY = re.compile(r"can't allocate memory|Cannot allocate memory|out of memory",
                            re.IGNORECASE)


def out_of_memory(type_name: str, message: str) -> bool:
    """Whether an exception (by its type name and message) is an allocation that failed: numpy's
    MemoryError (and its _ArrayMemoryError), PyTorch's DefaultCPUAllocator RuntimeError."""
    return type_name.endswith("MemoryError") or (type_name == "RuntimeError"
                                                 and bool(_OUT_OF_MEMORY.search(message)))


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform.startswith("linux")


class ChildDied(Exception):
    """The child running an item ended without a result; the message says how."""


class Supervisor:
    """A forked child that runs items on request (`call(key)` runs `handler(key)` there), and is
    replaced when it dies. The child is forked at the first call, so it has everything the
    parent had by then (the collected items, the session's seed); it keeps its warm caches from
    one item to the next, as a pytest-xdist worker does."""

    def __init__(self, handler: Callable[[str], object], memory_limit: int = 0):
        self.handler, self.memory_limit = handler, memory_limit
        self.pid: int | None = None
        self._to_child = self._from_child = -1

    def call(self, key: str) -> object:
        """handler(key)'s value, or its exception re-raised here; ChildDied if the child died
        running it (the next call starts a new child)."""
        if self.pid is None:
            self._start()
        try:
            _send(self._to_child, pickle.dumps(key))
            reply = _receive(self._from_child)
        except OSError:
            reply = None
        except BaseException:  # noqa: B036  an interrupt: never leave a child behind
            self.close(kill=True)
            raise
        if reply is None:
            raise ChildDied(_how(self._reap()))
        ok, value = pickle.loads(reply)
        if ok:
            return value
        raise value

    def close(self, kill: bool = False) -> None:
        """End the child (it exits when its request pipe closes; `kill`: at once)."""
        if self.pid is None:
            return
        if kill:
            os.kill(self.pid, signal.SIGKILL)
        os.close(self._to_child)
        self._reap()

    def _reap(self) -> int:
        os.close(self._from_child)
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        return status

    def _start(self) -> None:
        requests, replies = os.pipe(), os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: serves requests until the pipe closes, never returns
            status = 0
            try:
                os.close(requests[1])
                os.close(replies[0])
                self._serve(requests[0], replies[1])
            except BaseException:  # noqa: B036  whatever happens, the child must not return
                status = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        os.close(requests[0])
        os.close(replies[1])
        self.pid, self._to_child, self._from_child = pid, requests[1], replies[0]

    def _serve(self, requests: int, replies: int) -> None:
        os.environ["PARITY_CHILD"] = "1"  # harness.run.timeout: end the child if stuck in C
        scrub_environment()
        while True:
            request = _receive(requests)
            if request is None:
                return
            cap_memory(self.memory_limit)  # from what the child holds now, for each item
            try:
                outcome = (True, self.handler(pickle.loads(request)))
            except BaseException as exc:  # noqa: B036  sent to the parent, raised there
                outcome = (False, exc)
            try:
                data = pickle.dumps(outcome)
            except Exception as exc:
                data = pickle.dumps((False, RuntimeError(f"unpicklable result: {exc!r}")))
            _send(replies, data)


def _send(fd: int, data: bytes) -> None:
    data = len(data).to_bytes(8, "big") + data
    while data:
        data = data[os.write(fd, data):]


def _receive(fd: int) -> bytes | None:
    """One message, or None when the other end closed (or died)."""
    header = _read_exactly(fd, 8)
    if header is None:
        return None
    return _read_exactly(fd, int.from_bytes(header, "big"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name
        why = {"SIGALRM": "a program stayed in one C call past the time limit",
               "SIGKILL": "killed from outside, most likely by the kernel for lack of memory",
               "SIGSEGV": "a crash in C code", "SIGABRT": "aborted by C code"}.get(name, "")
        return f"was killed by {name}" + (f" ({why})" if why else "")
    return f"ended with exit status {os.waitstatus_to_exitcode(status)} and no result"
