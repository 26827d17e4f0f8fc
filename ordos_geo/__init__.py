"""ordos_geo: walking accessibility and facility planning for the Ordos fitness network.

Stages of the data flow, one module each: ``io`` -> ``network`` ->
``accessibility`` -> ``siting`` -> ``trails`` -> ``indicators`` -> ``maps``;
``cli`` is the thin command line over ``pipeline``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ordos_geo import io as io
from ordos_geo import network as network
from ordos_geo import settings as settings
from ordos_geo._errors import (
    ConfigError as ConfigError,
)
from ordos_geo._errors import (
    InfeasibleError as InfeasibleError,
)
from ordos_geo._errors import (
    InputDataError as InputDataError,
)
from ordos_geo._errors import (
    InputFileNotFoundError as InputFileNotFoundError,
)
from ordos_geo._errors import (
    NetworkDataError as NetworkDataError,
)
from ordos_geo._errors import (
    OrdosGeoError as OrdosGeoError,
)
from ordos_geo._errors import (
    SolverError as SolverError,
)

try:
    __version__ = version("ordos-geo")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
