"""The per-example time limit: a watchdog thread that raises into the running program.

It works in any thread (pytest-xdist runs items off the main thread in some setups, where
SIGALRM is unavailable).

One daemon watchdog thread per process checks the armed deadline; when it passes, it raises
`ProgramTimeout` asynchronously in the thread that armed it (`PyThreadState_SetAsyncExc`). The
exception arrives between bytecodes, so Python loops stop; a single long C call finishes first
(the builtins that could loop in C for long are capped: harness.spec.program.MAX_ITEMS; `parity
validate` also runs its dry runs in a child process that it kills: harness.run.dryrun). A C call
that holds the GIL keeps even the watchdog from running, so the kernel is the last resort: an
interval timer whose SIGALRM (default action: terminate) ends the process `HARD_EXIT_GRACE_S`
after the limit, in a pytest-xdist worker or in the child that runs items (harness.run.isolation).
The worker or child is replaced and the plugin records that spec as crashed (ERROR); the run goes
on and the report is written.
`ProgramTimeout` derives from BaseException so that a spec's own `except Exception:` cannot swallow
it (the allow-list refuses a bare `except:`), and it fires again every REFIRE_S until the block
ends, so a program that outlives one (a loop in a `finally:` clause) gets the next. Arming costs
an attribute write, not a thread start.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from contextlib import contextmanager

DEFAULT_LIMIT_S = 10.0
#: How long past its limit a worker's program may stay in one C call before the worker ends.
HARD_EXIT_GRACE_S = 5.0
#: How often the limit fires again while the block it limits keeps running.
REFIRE_S = 0.5


class ProgramTimeout(BaseException):
    """A program ran past its time limit."""


class _Watchdog:
    def __init__(self):
        self._lock = threading.Lock()
        self._armed: tuple[int, float, int] | None = None  # (thread id, deadline, token)
        self._token = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> tuple[int, tuple | None]:
        """Arm for `seconds` from now, or less if an enclosing limit of this thread ends
        sooner; returns the token and what was armed before, for `disarm`."""
        with self._lock:
            self._token += 1
            thread, deadline = threading.get_ident(), time.monotonic() + seconds
            outer = self._armed
            if outer is not None and outer[0] == thread:
                deadline = min(deadline, outer[1])  # a nested limit never outlives its parent
            self._armed = (thread, deadline, self._token)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="parity-watchdog",
                                                daemon=True)
                self._thread.start()
            return self._token, outer

    def disarm(self, token: int, outer: tuple | None = None) -> None:
        """End the limit `token` and put back the enclosing one (if its deadline has passed
        meanwhile, it fires at once)."""
        with self._lock:
            if self._armed and self._armed[2] == token:
                self._armed = outer

    def _watch(self) -> None:
        while True:
            time.sleep(0.02)
            with self._lock:  # inject under the lock: after disarm() returns, nothing arrives
                armed = self._armed
                if armed is None or time.monotonic() < armed[1]:
                    continue
                # fire again every REFIRE_S until disarmed: a program that outlives one (a loop
                # in a `finally:` clause) gets the next
                self._armed = (armed[0], time.monotonic() + REFIRE_S, armed[2])
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(armed[0]),
                                                           ctypes.py_object(ProgramTimeout))


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    """A forked child (harness.run.dryrun) has no watchdog thread, and the lock may have been held
    by it at the fork: start afresh."""
    _watchdog.__init__()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def time_limit(seconds: float | None):
    """Raise ProgramTimeout in this thread if the block runs longer than `seconds`. Limits
    nest: an inner block ends at its own deadline or its parent's, whichever comes first, and
    the parent's limit holds again after it."""
    if not seconds:
        yield
        return
    token, outer = _watchdog.arm(seconds)
    hard = _in_worker() and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    if hard:
        signal.setitimer(signal.ITIMER_REAL, seconds + HARD_EXIT_GRACE_S)
    try:
        yield
    finally:
        if hard:
            signal.setitimer(signal.ITIMER_REAL, 0)
        _watchdog.disarm(token, outer)


def _in_worker() -> bool:
    """A process that may end: a pytest-xdist worker (xdist replaces it) or the child that runs
    items (harness.run.isolation replaces it), whose SIGALRM still terminates."""
    return bool(os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("PARITY_CHILD")) \
        and hasattr(signal, "setitimer") and signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
