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
_STDOUT_FD = 1


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to the null device for the duration (C-level output such as HiGHS's banner).

    HiGHS prints its banner with C ``printf``, which writes to descriptor 1 whatever
    ``sys.stdout`` is. Under doctest, pytest's capture, ``contextlib.redirect_stdout`` or
    Jupyter, ``sys.stdout`` is another object (with no descriptor, or one that is not 1), so
    descriptor 1 itself is redirected, not ``sys.stdout.fileno()``. When descriptor 1 is
    closed there is nothing to silence.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(_STDOUT_FD)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, _STDOUT_FD)
        finally:
            os.close(devnull)
        yield
    finally:
        os.dup2(saved, _STDOUT_FD)
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
        # HiGHS prints its banner to descriptor 1 when the process's first instance is built,
        # before any option can be set on it.
        with _quiet_stdout():
            highs = highspy.Highs()
        _BANNER_SHOWN = True
    highs.setOptionValue("output_flag", False)
    # HiGHS starts one global thread pool, sized by the first instance that solves; an instance
    # asking for another size afterwards fails with status 'Not Set'. Every instance asks for one
    # thread, which also keeps solves deterministic.
    highs.setOptionValue("threads", 1)
    return highs
