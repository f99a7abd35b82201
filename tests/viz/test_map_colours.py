"""zoneopt.viz.map_colours: a proper colouring of touching zones; the legend's corner."""

from __future__ import annotations

import math

import shapely
from shapely.geometry import box
from viz_plans import voronoi_district

from zoneopt.viz import map_colours, map_geometry


def _touch(zones: dict, a: str, b: str) -> bool:
    return zones[a].boundary.intersection(zones[b].boundary).length >= 0.01


def test_touching_zones_never_share_a_colour():
    # Ten strips on a base strip, and an odd wheel of 9 wedges around a hub (it needs 4 colours).
    zones = {f"s{k}": box(k, 1, k + 1, 10) for k in range(10)}
    zones["base"] = box(0, 0, 10, 1)
    hub = shapely.Point(50, 50).buffer(2)
    ring = shapely.Point(50, 50).buffer(10).difference(hub)
    for k in range(9):
        angles = [2 * math.pi * (k + t / 4) / 9 for t in range(5)]
        wedge = shapely.Polygon([(50, 50)] + [(50 + 20 * math.cos(a), 50 + 20 * math.sin(a))
                                              for a in angles])
        zones[f"w{k}"] = ring.intersection(wedge)
    zones["hub"] = hub
    ids = list(zones)
    colors = map_colours.zone_colors(ids, [zones])
    touching = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if _touch(zones, a, b):
                touching += 1
                assert colors[a] != colors[b], (a, b)
    assert touching >= 9 + 10 + 9 + 9


def test_a_zone_touching_many_gets_a_colour_none_of_them_has():
    # A column of 10 squares all touching one tall bar.
    zones = {}
    for k in range(10):
        zones[f"a{k}"] = box(0, k, 1, k + 1)
    zones["bar"] = box(1, 0, 2, 10)
    ids = list(zones)
    colors = map_colours.zone_colors(ids, [zones])
    assert all(colors["bar"] != colors[f"a{k}"] for k in range(10))
    assert all(colors[f"a{k}"] != colors[f"a{k + 1}"] for k in range(9))


def test_todays_zones_keep_different_colours_where_the_palette_allows():
    units, schools, sq, proposed = voronoi_district()
    local = map_geometry.simplify_coverage(units.geometry)
    ids = schools["school_id"].tolist()
    new = map_geometry.dissolve(local, units["unit_id"].map(proposed), ids)
    old = map_geometry.dissolve(local, units["unit_id"].map(sq), ids)
    colors = map_colours.zone_colors(ids, [new, old])
    assert set(colors.values()) <= set(map_colours.ZONE_PALETTE)
    for zones in (new, old):
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if a in zones and b in zones and _touch(zones, a, b):
                    assert colors[a] != colors[b], (a, b)


def test_the_legend_goes_to_the_bottom_corner_that_covers_least_of_the_district():
    # An L-shaped district: empty at the bottom right.
    area = shapely.union_all([box(0, 0, 4, 10), box(0, 6, 10, 10)])
    assert map_colours.legend_corner(area, (0, 0, 10, 10)) == "bottomright"
    mirrored = shapely.union_all([box(6, 0, 10, 10), box(0, 6, 10, 10)])
    assert map_colours.legend_corner(mirrored, (0, 0, 10, 10)) == "bottomleft"
