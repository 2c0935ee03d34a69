"""Worker processes that never outlive the command that started them."""

from __future__ import annotations

import os
import signal
import threading
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_parent(parent: int) -> None:
    """Pool worker initializer: exit when the process that started the pool is gone (even after SIGKILL).

    A pool worker blocks on its task queue, whose write end it inherited, so it never sees end-of-file when
    the parent is killed and would wait forever as an orphan. When the worker is the parent's own child (fork
    and spawn start methods) Linux delivers SIGKILL to it when the parent dies (``PR_SET_PDEATHSIG``), and a
    thread notices a new parent id within a second elsewhere; under a fork server it polls the parent's pid.
    """
    direct = os.getppid() == parent
    if direct:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent:  # the parent died before the call above took effect
            os._exit(1)
    elif not _alive(parent):
        os._exit(1)

    def watch() -> None:
        while (os.getppid() == parent) if direct else _alive(parent):
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="asc-parent-watch").start()


def die_with_parent() -> dict:
    """``ProcessPoolExecutor`` keyword arguments that make its workers die with this process."""
    return {"initializer": _watch_parent, "initargs": (os.getpid(),)}
