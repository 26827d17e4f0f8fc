"""ordos_geo: walking accessibility and facility planning for the Ordos fitness network.

Stages of the data flow, one module each: ``io`` -> ``network`` ->
``accessibility`` -> ``siting`` -> ``trails`` -> ``indicators`` -> ``maps`` /
``report``; ``pipeline`` wires them for a study (``config``), ``batch`` runs
many studies on Dask and ``cli`` is the thin command line. ``sample`` builds
the embedded Ordos sample and ``fetch`` downloads a real district's data.

The stage modules are imported on first use (``ordos_geo.siting`` loads HiGHS,
``ordos_geo.maps`` folium), so ``import ordos_geo`` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ordos_geo import settings as settings
from ordos_geo._errors import (
    ConfigError,
    InfeasibleError,
    InputDataError,
    InputFileNotFoundError,
    MissingDependencyError,
    NetworkDataError,
    OrdosGeoError,
    SolverError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ordos_geo import accessibility as accessibility
    from ordos_geo import batch as batch
    from ordos_geo import config as config
    from ordos_geo import fetch as fetch
    from ordos_geo import indicators as indicators
    from ordos_geo import io as io
    from ordos_geo import maps as maps
    from ordos_geo import network as network
    from ordos_geo import pipeline as pipeline
    from ordos_geo import report as report
    from ordos_geo import sample as sample
    from ordos_geo import siting as siting
    from ordos_geo import trails as trails
    from ordos_geo import what_if as what_if

_SUBMODULES = (
    "accessibility",
    "batch",
    "config",
    "fetch",
    "indicators",
    "io",
    "maps",
    "network",
    "pipeline",
    "report",
    "sample",
    "siting",
    "trails",
    "what_if",
)

__all__ = [
    "ConfigError",
    "InfeasibleError",
    "InputDataError",
    "InputFileNotFoundError",
    "MissingDependencyError",
    "NetworkDataError",
    "OrdosGeoError",
    "SolverError",
    "__version__",
    "settings",
    *_SUBMODULES,
]

try:
    __version__ = version("ordos-geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    """Import a stage module on first access (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"ordos_geo.{name}")
    msg = f"module 'ordos_geo' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted(__all__)
