"""One rule for calls that take an options object or its keywords: each option is given in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TypeVar, cast

import numpy as np

from ordos_geo._errors import InputDataError

OptionsT = TypeVar("OptionsT")


def resolve_options(caller: str, options: OptionsT | None, keywords: OptionsT) -> OptionsT:
    """``options`` when given, else the options made from the keyword arguments.

    Parameters
    ----------
    caller : str
        Name of the public call, for the message.
    options : dataclass instance, optional
        What the caller passed as ``options=``.
    keywords : dataclass instance
        The same dataclass built from the caller's keyword arguments.

    Returns
    -------
    dataclass instance
        ``options`` if given (then every keyword must be left at its default),
        else ``keywords``.

    Raises
    ------
    InputDataError
        An option is given both in ``options=`` and as a keyword.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Options:
    ...     budget_m: float = 10_000.0
    >>> resolve_options("plan", Options(5_000.0), Options()).budget_m
    5000.0
    """
    if options is None:
        return keywords
    default = type(keywords)()
    both = [
        f.name
        for f in fields(cast(Any, keywords))
        if not _same_value(getattr(keywords, f.name), getattr(default, f.name))
    ]
    if both:
        msg = (
            f"{caller}: {', '.join(both)} given both in options= and as keywords; pass them in one place "
            f"(for example dataclasses.replace(options, {both[0]}=...))"
        )
        raise InputDataError(msg)
    return options


def _same_value(value: Any, default: Any) -> bool:
    """Equal as options: a list, tuple or array equals the tuple with the same items; arrays never raise."""
    if default is None or value is None:
        return value is default
    sequence = (Sequence, np.ndarray)
    if isinstance(default, sequence) and not isinstance(default, str):
        if not isinstance(value, sequence) or isinstance(value, str) or len(value) != len(default):
            return False
        return all(_same_value(a, b) for a, b in zip(value, default, strict=True))
    if isinstance(value, np.ndarray):
        return False
    return bool(value == default)
