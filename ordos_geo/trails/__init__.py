"""Fitness trails (健身步道): plan new trails through underserved areas and check proposed ones."""

from ordos_geo.trails.plan import *  # noqa: F403
from ordos_geo.trails.plan import __all__ as __all__
