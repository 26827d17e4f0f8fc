"""Optional and heavy imports, in one place, each failing with one line that says what to install.

Every stage that needs a library it does not always need (pyrosm for ``.osm.pbf``,
openpyxl for Excel, python-docx for ``report.docx``, dask.distributed for
``batch``) imports it through :func:`import_optional`, so the message is the same
wherever it is raised and no stage imports another stage to reach a helper.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ordos_geo._errors import MissingDependencyError

__all__ = ["import_optional", "import_pyrosm"]


def import_optional(module: str, *, purpose: str, requirement: str) -> ModuleType:
    """Import ``module`` or raise :class:`~ordos_geo.MissingDependencyError` naming what to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"pyrosm"``.
    purpose : str
        What needs it, as the start of the message, e.g. ``"reading .osm.pbf files"``.
    requirement : str
        The pip requirement, e.g. ``"pyrosm>=0.25"``.

    Returns
    -------
    types.ModuleType

    Examples
    --------
    >>> import_optional("json", purpose="reading JSON", requirement="json").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        msg = f"{purpose} needs {requirement.split('>')[0].split('=')[0]}: pip install '{requirement}'"
        raise MissingDependencyError(msg) from error


def import_pyrosm() -> ModuleType:
    """pyrosm, for reading ``.osm.pbf`` extracts."""
    return import_optional("pyrosm", purpose="reading .osm.pbf files", requirement="pyrosm>=0.25")
