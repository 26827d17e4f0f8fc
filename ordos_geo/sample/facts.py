"""The sourced facts the sample is calibrated with: county-level units, census totals, landmarks."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class AdminUnit:
    """A county-level unit (or the city) with its 2020 census population.

    Examples
    --------
    >>> kangbashi = next(unit for unit in DISTRICTS if unit.name_en == "Kangbashi")
    >>> kangbashi.adcode, kangbashi.name_zh, kangbashi.population_2020
    ('150603', '康巴什区', 118796)
    """

    adcode: str
    name_zh: str
    name_en: str
    level: str
    population_2020: int
    population_source: str
    share_60plus: float


_CENSUS = "census_2020"
_CENSUS_DERIVED = "census_2020_derived"

#: Ordos and its county-level units with the 2020 (7th) census resident population
#: (鄂尔多斯市第七次全国人口普查公报(第二号), 2021-05-26, and the units' Wikipedia entries).
#: Dongsheng = urban total 693,038 - Kangbashi 118,796 (the en-wiki lede's 574,442
#: is a typo: the bulletin's top-3 share of 58.60 % confirms 574,242); Uxin and Otog
#: Front are split from their solid sum 251,290 using remembered 2010 values and are
#: marked derived. The last number is
#: the share of residents aged 60+ in the 2020 census (第七次全国人口普查,
#: m.chujuan.cn/question/detail-60288657.shtml, a secondary page reproducing the census table;
#: confidence medium), written to the boundaries as ``share_60plus``.
DISTRICTS: tuple[AdminUnit, ...] = (
    AdminUnit("150600", "鄂尔多斯市", "Ordos", "city", 2_153_638, _CENSUS, 0.1504),
    AdminUnit("150602", "东胜区", "Dongsheng", "district", 574_242, _CENSUS_DERIVED, 0.1158),
    AdminUnit("150603", "康巴什区", "Kangbashi", "district", 118_796, _CENSUS, 0.0878),
    AdminUnit("150621", "达拉特旗", "Dalad", "district", 328_593, _CENSUS, 0.2106),
    AdminUnit("150622", "准格尔旗", "Jungar", "district", 359_184, _CENSUS, 0.1690),
    AdminUnit("150623", "鄂托克前旗", "Otog Front", "district", 92_724, _CENSUS_DERIVED, 0.1534),
    AdminUnit("150624", "鄂托克旗", "Otog", "district", 162_726, _CENSUS, 0.1255),
    AdminUnit("150625", "杭锦旗", "Hanggin", "district", 110_824, _CENSUS, 0.2202),
    AdminUnit("150626", "乌审旗", "Uxin", "district", 158_566, _CENSUS_DERIVED, 0.1300),
    AdminUnit("150627", "伊金霍洛旗", "Ejin Horo", "district", 247_983, _CENSUS, 0.1511),
)

#: Share of each district's 2020 census population that lives in the central core the
#: sample covers (central Kangbashi, central Dongsheng): **estimate, unverified**. One
#: factor for both districts, so the raster keeps the census ratio 574,242 : 118,796;
#: the raster holds Dongsheng 172,273 and Kangbashi 35,639 (``core_population``).
CORE_POPULATION_SHARE = 0.30

#: Range the sample's citywide per-capita venue area (m² per resident, computed with the
#: study's rules) is calibrated into: below the plan's 3.4 m² (2024) / 3.5 m² (2025) so
#: that siting and trails matter, near the real figures (Inner Mongolia 2.93 m² end-2024,
#: reported 2025-05-14; Jungar 3.12 m² 2025-03, news.qq.com/rain/a/20250325A03IDO00;
#: Otog 2.88 m² 2024-10, Xinhua 2024-10-24).
CALIBRATION_PER_CAPITA_AREA_M2 = (2.5, 3.0)

#: Metric working CRS of the generator: CGCS2000 3-degree Gauss-Krüger CM 111E.
WORK_CRS = 4546
#: Boundary simplification tolerance (degrees, about 30 m) and output precision.
SIMPLIFY_DEG = 0.0003
GEOJSON_PRECISION = 7
#: Raster resolution: 3 arc-seconds, the WorldPop grid.
CELL_DEG = 1.0 / 1200.0
NODATA = -99999.0


def core_population(unit: AdminUnit) -> int:
    """Persons the sample's raster holds for ``unit``: its 2020 census total x ``CORE_POPULATION_SHARE``.

    Rounded half up to a whole person (Dongsheng 574,242 -> 172,273; Kangbashi
    118,796 -> 35,639), so the ratio of two districts matches the census ratio to
    within rounding.

    Examples
    --------
    >>> {unit.name_en: core_population(unit) for unit in DISTRICTS if unit.name_en in ("Dongsheng", "Kangbashi")}
    {'Dongsheng': 172273, 'Kangbashi': 35639}
    """
    return math.floor(unit.population_2020 * CORE_POPULATION_SHARE + 0.5)


# Landmarks, lon/lat WGS-84 (Wikipedia: Ordos City, Ordos Stadium; Dongsheng government from public
# lists of government seats; see the sample README's "Sources").
GENGHIS_KHAN_SQUARE = (109.785, 39.604)
KANGBASHI_CITY_GOV = (109.7814, 39.6082)
DONGSHENG_GOV = (109.9633, 39.8225)
DONGSHENG_STADIUM = (109.948156, 39.832502)
HAMLET = (109.850, 39.705)
CORE_ZH = {"Kangbashi": "康巴什", "Dongsheng": "东胜"}
