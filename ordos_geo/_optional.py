"""Optional and heavy imports, in one place, each failing with one line that says what to install.

Every stage that needs a library it does not always need (pyrosm for ``.osm.pbf``,
openpyxl for Excel, python-docx for ``report.docx``, dask.distributed for
``batch``) imports it through :func:`import_optional`, so the message is the same
wherever it is raised and no stage imports another stage to reach a helper.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
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


#: Optional libraries pyrosm probes (in ``pyrosm.utils._compat``, on the first import of its readers) for graph
#: exports ordos_geo never asks for: pandana alone imports scikit-learn and scipy.stats, about 2 s of a run.
_PYROSM_UNUSED_PROBES = ("pandana", "pandarm")


def import_pyrosm() -> ModuleType:
    """pyrosm, for reading ``.osm.pbf`` extracts.

    pyrosm's probe of its optional graph libraries runs here with pandana and
    pandarm marked missing (unless already imported), so reading a PBF does not
    import scikit-learn; both import normally afterwards.
    """
    if "pyrosm.utils._compat" in sys.modules:
        return sys.modules["pyrosm"]
    blocked = [name for name in _PYROSM_UNUSED_PROBES if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not installed" marker
    try:
        pyrosm = import_optional("pyrosm", purpose="reading .osm.pbf files", requirement="pyrosm>=0.25")
        with contextlib.suppress(ImportError):  # a pyrosm that moved its probe: it runs later, unblocked
            importlib.import_module("pyrosm.utils._compat")
        return pyrosm
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
