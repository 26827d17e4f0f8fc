"""Site selection for new fitness facilities: candidates, rules and location models.

The stage answers "where should the new sports park, the three small fitness
centres and the three multi-sport courts go?" with

- a documented, configurable rule table per new facility type
  (:class:`SitingRule`, :data:`DEFAULT_RULES`);
- candidate sites from a user file, from vacant or green land in an OSM
  extract, and from network nodes at the centres of underserved
  neighbourhoods (``candidates_from_*``);
- maximal coverage location models in spopt's shape (:class:`MaximalCoverage`
  for one type, :class:`CombinedCoverage` for the joint plan): a core
  constructor from a sparse coverage matrix, a GeoDataFrame constructor that
  only builds that matrix from walking distances, and ``solve(method=...)``
  returning the model, exactly with HiGHS (``highspy``) or by lazy greedy;
- :func:`plan_sites`, the planner's entry point: ranked, explained shortlists
  per type, the chosen plan, greedy-vs-exact gaps, and the chosen sites as
  facility rows so indicators can be recomputed.

The modules follow spopt's ``locate`` package: :mod:`~ordos_geo.siting.rules`,
:mod:`~ordos_geo.siting._engine` (the solver: numpy, scipy and HiGHS only),
:mod:`~ordos_geo.siting.base` (:class:`CoverageModel`, the models' one base),
:mod:`~ordos_geo.siting.coverage` (the two models, siblings over it),
:mod:`~ordos_geo.siting.candidates`, :mod:`~ordos_geo.siting._distances`
(walking distances -> coverage matrices), :mod:`~ordos_geo.siting.planner`
and :mod:`~ordos_geo.siting.schools`.

All geometry is in the walk network's metric CRS; distances are metres along
the walk network; populations are residents; areas are m².
"""

from ordos_geo.siting.base import CoverageModel
from ordos_geo.siting.candidates import (
    CANDIDATE_COLUMNS,
    CANDIDATE_OSM_TAGS,
    DEFAULT_MIN_SCHOOL_GROUNDS_M2,
    candidates_from_file,
    candidates_from_osm,
    candidates_from_underserved,
    eligible_candidates,
)
from ordos_geo.siting.coverage import CombinedCoverage, MaximalCoverage
from ordos_geo.siting.planner import SitingResult, plan_sites
from ordos_geo.siting.rules import DEFAULT_PLAN, DEFAULT_RULES, SITE_TYPE_ALIASES, SitingRule, resolve_site_type
from ordos_geo.siting.schools import SCHOOL_OPENING, SchoolOpeningResult, plan_school_opening

__all__ = [
    "CANDIDATE_COLUMNS",
    "CANDIDATE_OSM_TAGS",
    "DEFAULT_MIN_SCHOOL_GROUNDS_M2",
    "DEFAULT_PLAN",
    "DEFAULT_RULES",
    "SCHOOL_OPENING",
    "SITE_TYPE_ALIASES",
    "CombinedCoverage",
    "CoverageModel",
    "MaximalCoverage",
    "SchoolOpeningResult",
    "SitingResult",
    "SitingRule",
    "candidates_from_file",
    "candidates_from_osm",
    "candidates_from_underserved",
    "eligible_candidates",
    "plan_school_opening",
    "plan_sites",
    "resolve_site_type",
]
