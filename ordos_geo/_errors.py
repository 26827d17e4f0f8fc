"""One small hierarchy of errors, each naming the input, the field and the fix.

Every error a user can cause derives from :class:`OrdosGeoError`; the subclasses
also inherit the matching built-in (``ValueError``, ``FileNotFoundError``) so
callers that catch the built-ins keep working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FetchError",
    "InfeasibleError",
    "InputDataError",
    "InputFileNotFoundError",
    "MissingDependencyError",
    "NetworkDataError",
    "OrdosGeoError",
    "OutputError",
    "SolverError",
]


class OrdosGeoError(Exception):
    """Base class of every error ordos_geo raises on purpose."""


class InputDataError(OrdosGeoError, ValueError):
    """An input file or table is unusable: empty, wrong CRS, missing column, bad values."""


class InputFileNotFoundError(OrdosGeoError, FileNotFoundError):
    """An input path does not exist."""


class ConfigError(OrdosGeoError, ValueError):
    """A study configuration (TOML or keyword) is invalid."""


class FetchError(OrdosGeoError, ConnectionError):
    """An online service (Overpass, WorldPop) could not be reached or gave an unusable answer."""


class OutputError(OrdosGeoError, OSError):
    """An output cannot be written: a file, read-only or full folder, an input it would replace, a held lock."""


class NetworkDataError(InputDataError):
    """A walk network cannot be built: no walkable ways, nothing connected."""


class InfeasibleError(OrdosGeoError, ValueError):
    """An optimisation problem has no feasible solution for the given rules.

    ``part`` names the part that cannot be done (e.g. the site type ``"sports_park"``)
    when the rest of the problem could still be solved without it.
    """

    def __init__(self, *args: object, part: str | None = None) -> None:
        super().__init__(*args)
        self.part = part


class SolverError(OrdosGeoError, RuntimeError):
    """A solver finished with a status other than optimal."""


class MissingDependencyError(OrdosGeoError, ImportError):
    """An optional dependency is not installed; the message names the extra."""
