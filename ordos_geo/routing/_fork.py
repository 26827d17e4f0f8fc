"""Work in ``fork``-ed child processes that write into shared memory, with the same code as a fallback.

scipy's Dijkstra and the numpy / shapely calls hold the GIL, so threads do not
help. On POSIX, large inputs hand work to ``fork``-ed child processes that
share the inputs copy-on-write and write their results into shared memory
(the cell centroids while the network index is built, half of the cell
snapping while the facilities are snapped, and the per-kind nearest-facility
searches while the E2SFCA catchment pairs are found). The children run the
same functions as the single-process path, so results are identical; without
``fork`` (Windows), with other threads running (tqdm's idle monitor thread
excepted), or if a child fails, the work is done in the calling process.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from tqdm.std import TMonitor

logger = logging.getLogger(__name__)


def _can_fork() -> bool:
    """Whether work can go to a forked child.

    Needs POSIX ``fork`` and no other threads that a fork could strand while
    they hold a lock the child needs; tqdm's monitor thread only sleeps and
    the children never touch tqdm, so it is allowed.
    """
    if not hasattr(os, "fork"):
        return False
    current = threading.current_thread()
    return current is threading.main_thread() and all(
        isinstance(thread, TMonitor) for thread in threading.enumerate() if thread is not current
    )


class _Forked:
    """Fill fixed-size arrays with ``fill(*arrays)`` in a forked child process, or here.

    scipy's Dijkstra and most numpy / shapely calls used here hold the GIL, so
    threads do not overlap; a ``fork``-ed child shares the inputs copy-on-write
    and writes its results into anonymous shared memory while this process
    does other work. When ``fork`` is unavailable, other threads run,
    ``background`` is false or the child fails, :meth:`result` runs ``fill``
    here with the same code, so results are identical either way.
    """

    def __init__(
        self, specs: Sequence[tuple[tuple[int, ...], type]], fill: Callable[..., None], *, background: bool
    ) -> None:
        self.fill = fill
        self.pid = 0
        self.child_s = 0.0
        sizes = [int(np.prod(shape)) for shape, _dtype in specs]
        if background and _can_fork():
            self._buffer = mmap.mmap(-1, 8 * (sum(sizes) + 1))  # MAP_SHARED | MAP_ANONYMOUS: inherited by the child
            flat = np.frombuffer(self._buffer, dtype=np.float64)
            self.arrays: list[np.ndarray] = []
            at = 0
            for (shape, dtype), size in zip(specs, sizes, strict=True):
                self.arrays.append(flat[at : at + size].view(dtype).reshape(shape))
                at += size
            self._elapsed = flat[at : at + 1]
            self.pid = self._fork()
        else:
            self.arrays = [np.empty(shape, dtype=dtype) for shape, dtype in specs]
        self.done = False

    def _fork(self) -> int:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork with other threads; _can_fork allows only tqdm's idle monitor thread
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # child: fill the shared arrays, then leave without running any cleanup of the parent's state
            code = 1
            try:
                clock = time.perf_counter()
                self.fill(*self.arrays)
                self._elapsed[0] = time.perf_counter() - clock
                code = 0
            finally:
                os._exit(code)
        return pid

    def cancel(self) -> None:
        """Stop the child process (when the caller fails)."""
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0

    def result(self) -> list[np.ndarray]:
        """The filled arrays, waiting for the child if there is one."""
        if self.pid:
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
            if os.waitstatus_to_exitcode(status) == 0:
                self.child_s = float(self._elapsed[0])
                self.done = True
            else:
                logger.warning("accessibility: a child process failed; doing its work in this process")
        if not self.done:
            self.fill(*self.arrays)
            self.done = True
        return self.arrays  # views keep the shared mapping alive as long as they are used
