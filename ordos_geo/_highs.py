"""A silent HiGHS instance, shared by the siting and trails solvers."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from ordos_geo._errors import MissingDependencyError

__all__ = ["new_highs"]

_BANNER_SHOWN = False


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (HiGHS prints a banner when its first instance is built)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def new_highs() -> Any:
    """Return a single-threaded ``highspy.Highs`` with output off (the first one's banner is swallowed)."""
    global _BANNER_SHOWN
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a dependency
        msg = "the exact solvers need highspy; install it with `pip install highspy`"
        raise MissingDependencyError(msg) from exc
    if _BANNER_SHOWN:
        highs = highspy.Highs()
    else:
        with _quiet_stdout():
            highs = highspy.Highs()
        _BANNER_SHOWN = True
    highs.setOptionValue("output_flag", False)
    # HiGHS starts one global thread pool, sized by the first instance that solves; an instance
    # asking for another size afterwards fails with status 'Not Set'. Every instance asks for one
    # thread, which also keeps solves deterministic.
    highs.setOptionValue("threads", 1)
    return highs
