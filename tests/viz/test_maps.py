"""zoneopt.viz.maps without a browser: content, self-containment, determinism, safety."""

from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from viz_plans import grid_district, make_plan, voronoi_district

from zoneopt.errors import ZoneoptInputError
from zoneopt.viz import map_assets, map_colours, map_geometry, maps

XSS_NAME = "<img src=x onerror=alert(1)>"


def _units_json(page: str) -> dict:
    """The units embedded in a page, as {"features": [{"properties": ..., "g": ...}]}."""
    import json

    start = page.index("var zoneoptUnits = zoneoptDecode(") + len(
        "var zoneoptUnits = zoneoptDecode("
    )
    end = page.index(");\nvar zoneoptSchools")
    return {"features": [{"properties": f["p"], "g": f["g"]} for f in json.loads(page[start:end])]}


def decode_ring(text: str) -> list[tuple[float, float]]:
    """Python twin of zoneoptDecodeRing (templates/runtime.js.j2)."""
    values, index = [], 0
    while index < len(text):
        result = shift = 0
        while True:
            b = ord(text[index]) - 63
            index += 1
            result |= (b & 0x1F) << shift
            shift += 5
            if b < 0x20:
                break
        values.append(~(result >> 1) if result & 1 else result >> 1)
    xs, ys = np.cumsum(values[0::2]), np.cumsum(values[1::2])
    return [(x / 1e5, y / 1e5) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]


def _schools_json(page: str) -> list:
    import json

    start = page.index("var zoneoptSchools = ") + len("var zoneoptSchools = ")
    end = page.index(";\nvar zoneoptZones")
    return json.loads(page[start:end])


def test_map_html_loads_nothing_from_the_network_but_basemap_tiles(grid_plan):
    page = maps.map_html(grid_plan)
    assert "<script src" not in page
    assert "<link" not in page
    assert "@import" not in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "Leaflet 1.9.4" in page
    assert "url(images/" not in page  # leaflet.css images are inlined as data URIs
    # Leaflet's own files mention bug trackers in comments; their CSS may load nothing but data
    # URIs. Then look for URLs in the rest of the page.
    head = map_assets.inline_head()
    assert head in page
    assert map_assets._asset_text("leaflet.js").replace("</script", "<\\/script") in head
    assert not re.findall(r"url\((?!data:|#default#VML)", head)
    urls = set(re.findall(r"https?://[^\s\"'<>)\\]+", page.replace(head, "")))
    tiles = {u for u in urls if "tile.openstreetmap.org" in u}
    assert tiles, "the basemap tile layer is on by default"
    # Every other URL is in a licence comment, an attribution link or an SVG namespace.
    for url in urls - tiles:
        assert url.startswith(
            (
                "https://leafletjs.com",
                "https://openstreetmap.org",
                "https://www.openstreetmap.org",
                "http://www.w3.org/2000/svg",
                "http://openstreetmap.org",
            )
        ), url


def test_map_without_basemap_has_no_tile_layer(grid_plan):
    page = maps.render_map(maps.plan_map(grid_plan, basemap=False))
    assert "tile.openstreetmap.org" not in page
    assert "L.tileLayer" not in page


def test_map_html_is_deterministic_and_has_no_random_ids(grid_plan):
    first = maps.map_html(grid_plan)
    second = maps.map_html(grid_plan)
    assert first == second
    # branca's ids are 32 random hex digits; after renaming they count up from zero.
    names = set(re.findall(r"\b[a-z_]+_([0-9a-f]{32})\b", first))
    assert names, "folium element names are present"
    assert all(int(n, 16) < 1000 for n in names), names


def test_plan_map_embeds_every_unit_with_old_and_new_school(grid_plan):
    page = maps.map_html(grid_plan)
    units = _units_json(page)["features"]
    schools = _schools_json(page)
    ids = [s["id"] for s in schools]
    assert len(units) == 9
    by_id = {f["properties"]["u"]: f["properties"] for f in units}
    for uid, school in grid_plan.assignment.items():
        p = by_id[uid]
        assert ids[p["n"]] == school
        assert ids[p["o"]] == grid_plan.status_quo[uid]
    changed = {u for u, p in by_id.items() if p["n"] != p["o"]}
    expected = set(grid_plan.assignment.index[grid_plan.assignment != grid_plan.status_quo])
    assert changed == expected and len(changed) == 2


def test_unit_low_income_share_and_students_are_exact(grid_plan):
    page = maps.map_html(grid_plan)
    units = grid_plan.district.units.set_index("unit_id")
    for f in _units_json(page)["features"]:
        p = f["properties"]
        assert p["s"] == units.at[p["u"], "students"]
        assert p["p"] == pytest.approx(
            units.at[p["u"], "low_income"] / units.at[p["u"], "students"], abs=5e-5
        )


def test_school_popups_show_before_and_after_figures(grid_plan):
    page = maps.map_html(grid_plan)
    table = grid_plan.schools_table.set_index("school_id")
    for s in _schools_json(page):
        row = table.loc[s["id"]]
        popup = s["popup"]
        assert row["name"] in popup
        assert f"Capacity: {row['capacity']:,} students" in popup
        assert f"<td>{row['enrollment_before']:,}</td>" in popup
        assert f'<td class="zoneopt-after">{row["enrollment_after"]:,}</td>' in popup
        for col in ("low_income_share_before", "low_income_share_after"):
            assert f"{100 * row[col]:.1f}%" in popup
        assert f"{row['mean_distance_km_after']:.2f} km" in popup
        assert f"{100 * row['utilization_after']:.0f}%" in popup


def test_layers_are_toggleable_and_named(grid_plan):
    page = maps.map_html(grid_plan)
    assert "L.control.layers(" in page
    for name in (
        "Current zones",
        "Proposed zones",
        "Low-income share of students",
        "Units that change school",
        "Schools",
        "Basemap (needs internet)",
    ):
        assert f'"{name}" :' in page, name
    assert "fitBounds" in page


@pytest.mark.filterwarnings("ignore:Numba not installed")
def test_choropleth_classes_come_from_mapclassify_with_a_legend(big_plan):
    import mapclassify

    page = maps.map_html(big_plan)
    units = big_plan.district.units
    share = (units["low_income"] / units["students"]).to_numpy()
    fj = mapclassify.FisherJenks(share, k=5)
    by_id = {f["properties"]["u"]: f["properties"]["k"] for f in _units_json(page)["features"]}
    assert [by_id[u] for u in units["unit_id"]] == fj.yb.tolist()
    for hi in fj.bins:
        assert f"to {100 * hi:.0f}%" in page  # legend labels


def test_units_without_students_get_their_own_class():
    units, schools, sq, proposed = grid_district()
    units.loc[4, ["students", "low_income"]] = 0
    page = maps.map_html(make_plan(units, schools, proposed, sq))
    props = [f["properties"] for f in _units_json(page)["features"]]
    assert props[4]["p"] is None and props[4]["k"] == -1
    assert "no students" in page


def test_share_cv_column_reaches_the_tooltip_data_when_present():
    units, schools, sq, proposed = grid_district()
    units["low_income_share_cv"] = np.linspace(0.05, 0.45, 9)
    page = maps.map_html(make_plan(units, schools, proposed, sq))
    cvs = [f["properties"]["cv"] for f in _units_json(page)["features"]]
    assert cvs == pytest.approx(np.linspace(0.05, 0.45, 9).round(3).tolist())
    page_without = maps.map_html(make_plan(*grid_district()[:2], proposed, sq))
    assert '"cv"' not in page_without


def test_neighbouring_zones_get_different_colours():
    units, schools, sq, proposed = voronoi_district()
    local = maps.simplify_coverage(units.geometry)
    zones = map_geometry.dissolve(local, units["unit_id"].map(proposed), schools["school_id"].tolist())
    colors = map_colours.zone_colors(schools["school_id"].tolist(), [zones])
    ids = list(zones)
    touching = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if zones[a].boundary.intersection(zones[b].boundary).length > 1:
                touching += 1
                assert colors[a] != colors[b], (a, b)
    assert touching >= 8
    assert set(colors.values()) <= set(maps.ZONE_PALETTE)


def test_simplification_keeps_shared_boundaries_shared_and_shrinks_geometry():
    units = voronoi_district()[0]
    simplified = maps.simplify_coverage(units.geometry)
    assert shapely.coverage_is_valid(simplified.values)
    before = int(shapely.get_num_coordinates(units.geometry.values).sum())
    after = int(shapely.get_num_coordinates(simplified.values).sum())
    assert after < before / 4
    # No gap or overlap appears: the union keeps the district's area.
    assert shapely.union_all(simplified.values).area == pytest.approx(
        shapely.union_all(units.geometry.values).area, rel=1e-3
    )
    # Every simplified vertex stays within the tolerance of the original boundary.
    for orig, simp in zip(units.geometry.values[:30], simplified.values[:30], strict=True):
        assert orig.hausdorff_distance(simp) <= maps.SIMPLIFY_TOLERANCE_M + 1e-6


def test_simplification_of_overlapping_polygons_falls_back_to_per_polygon():
    geoms = gpd.GeoSeries([box(0, 0, 100, 100), box(50, 0, 150, 100)], crs="EPSG:32610")
    out = maps.simplify_coverage(geoms)
    assert out.is_valid.all()
    assert out.area.tolist() == pytest.approx(geoms.area.tolist())


def test_plan_map_returns_a_folium_map_and_leaves_inputs_untouched(grid_plan):
    units_before = grid_plan.district.units.copy()
    schools_before = grid_plan.district.schools.copy()
    assignment_before = grid_plan.assignment.copy()
    m = maps.plan_map(grid_plan)
    assert isinstance(m, folium.Map)
    assert "<iframe" in m._repr_html_()  # renders inline in a notebook
    pd.testing.assert_frame_equal(grid_plan.district.units, units_before)
    pd.testing.assert_frame_equal(grid_plan.district.schools, schools_before)
    pd.testing.assert_series_equal(grid_plan.assignment, assignment_before)


def test_zones_map_of_todays_zones_in_geographic_crs():
    units, schools, sq, _ = grid_district()
    m = maps.zones_map(units.to_crs(4326), schools.to_crs(4326), sq, title="Today")
    page = maps.render_map(m)
    schools_js = _schools_json(page)
    assert [s["id"] for s in schools_js] == ["A", "B", "C"]
    # A's zone today is the west column.
    enrol_a = int(units.loc[units["current_school"] == "A", "students"].sum())
    assert f"<td>{enrol_a:,}</td>" in schools_js[0]["popup"]
    assert "Proposed" not in schools_js[0]["popup"]
    assert "<title>Today</title>" in page
    assert '"Zones" :' in page and "Current zones" not in page


def test_units_without_crs_are_bad_input():
    units, schools, sq, _ = grid_district()
    units = units.set_crs(None, allow_override=True)
    with pytest.raises(ZoneoptInputError, match="coordinate reference system"):
        maps.zones_map(units, schools, sq)


def test_missing_column_is_bad_input():
    units, schools, sq, _ = grid_district()
    with pytest.raises(ZoneoptInputError, match="low_income"):
        maps.zones_map(units.drop(columns="low_income"), schools, sq)


def test_assignment_to_an_unknown_school_is_bad_input():
    units, schools, sq, _ = grid_district()
    bad = sq.copy()
    bad.iloc[0] = "Z"
    with pytest.raises(ZoneoptInputError, match="Z"):
        maps.zones_map(units, schools, bad)


def test_names_from_input_files_are_escaped_in_map_html():
    units, schools, sq, proposed = grid_district(
        names=(XSS_NAME, "</script><script>window.pwned=1</script>", "Cedar & Pine")
    )
    units.loc[0, "unit_id"] = "<b>060750000000</b>"
    sq.index = units["unit_id"]
    proposed.index = units["unit_id"]
    page = maps.map_html(make_plan(units, schools, proposed, sq, title="<i>Board</i>"))
    assert XSS_NAME not in page
    assert "<script>window.pwned" not in page
    assert "<b>060750000000</b>" not in page
    assert "<i>Board</i>" not in page
    popups = [s["popup"] for s in _schools_json(page)]
    assert "<h4>&lt;img src=x onerror=alert(1)&gt;</h4>" in popups[0]
    assert "<h4>Cedar &amp; Pine</h4>" in popups[2]
    assert "&lt;i&gt;Board&lt;/i&gt;" in page  # <title>


def test_encoded_geometry_decodes_to_the_simplified_units_on_a_1e5_degree_grid(grid_plan):
    page = maps.map_html(grid_plan)
    units = grid_plan.district.units
    expected = maps.simplify_coverage(units.geometry).to_crs(4326)
    for f, geom in zip(_units_json(page)["features"], expected, strict=True):
        (ring,) = f["g"][0]
        got = np.array(decode_ring(ring))
        want = np.round(np.asarray(geom.exterior.coords), 5)
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_shared_vertices_stay_identical_after_encoding():
    units, schools, sq, proposed = voronoi_district()
    page = maps.map_html(make_plan(units, schools, proposed, sq))
    polys = [
        shapely.Polygon(decode_ring(rings[0]), [decode_ring(r) for r in rings[1:]])
        for f in _units_json(page)["features"]
        for rings in f["g"]
    ]
    # Shared edges match vertex for vertex (no gaps, no overlaps): a valid coverage.
    assert shapely.coverage_is_valid(np.array(polys, dtype=object))
    total = sum(p.area for p in polys)
    assert shapely.union_all(polys).area == pytest.approx(total, rel=1e-9)


def test_jinja_syntax_in_names_is_shown_literally_not_evaluated():
    units, schools, sq, proposed = grid_district(
        names=("{{ 7 * 7 }}", "{% if 1 %}x{% endif %}", "{# c #}")
    )
    plan = make_plan(units, schools, proposed, sq, title="{{ 6 * 7 }}")
    page = maps.map_html(plan)
    names = [s["name"] for s in _schools_json(page)]
    assert names == ["{{ 7 * 7 }}", "{% if 1 %}x{% endif %}", "{# c #}"]
    assert "<h4>{{ 7 * 7 }}</h4>" in _schools_json(page)[0]["popup"]
    assert '"{{ 6 * 7 }}"' in page and ">42<" not in page


def test_units_in_feet_are_measured_in_metres():
    units, schools, sq, _ = grid_district()
    feet = maps.render_map(maps.zones_map(units.to_crs(2227), schools.to_crs(2227), sq))
    metres = maps.render_map(maps.zones_map(units, schools, sq))

    def km(page):
        return [
            float(s["popup"].split("Mean distance</th><td>")[1].split(" km")[0])
            for s in _schools_json(page)
        ]

    # Same figures up to display rounding (a foot-for-metre mix-up would be 3.28 times off).
    assert km(feet) == pytest.approx(km(metres), abs=0.011)
    assert min(km(metres)) > 0.3


def test_plan_without_assignment_maps_todays_zones(grid_plan):
    grid_plan.assignment = None
    page = maps.map_html(grid_plan)
    props = [f["properties"] for f in _units_json(page)["features"]]
    assert all(p["n"] == p["o"] for p in props)


def test_pages_are_identical_across_processes_and_hash_seeds():
    import hashlib
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import hashlib\n"
        "from viz_plans import grid_district, make_plan\n"
        "from zoneopt.viz import maps, report\n"
        "u, s, sq, p = grid_district()\n"
        "plan = make_plan(u, s, p, sq, title='t')\n"
        "print(hashlib.sha256((maps.map_html(plan) + report.report_html(plan)).encode())"
        ".hexdigest())\n"
    )
    here = Path(__file__).parent
    root = here.parent.parent
    digests = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=f"{here}{os.pathsep}{root}")
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        digests.append(out.stdout.strip())
    units, schools, sq, proposed = grid_district()
    plan = make_plan(units, schools, proposed, sq, title="t")
    from zoneopt.viz import report

    local = hashlib.sha256((maps.map_html(plan) + report.report_html(plan)).encode()).hexdigest()
    assert digests == [local, local]


def test_share_classes_of_a_large_district_are_ordered_and_complete():
    shares = np.random.default_rng(5).beta(2, 5, 4000)
    shares[:10] = np.nan
    cls, colors, legend = map_colours.share_classes(shares)
    assert (cls[:10] == -1).all()
    order = np.argsort(shares[10:])
    assert (np.diff(cls[10:][order]) >= 0).all()  # higher share, same or higher class
    assert set(cls[10:].tolist()) == set(range(5)) and colors == list(maps.SHARE_PALETTE)
    assert legend[-1]["label"] == "no students" and len(legend) == 6


def test_each_proposed_zone_gets_its_school_name_at_a_point_inside_it(grid_plan):
    page = maps.map_html(grid_plan)
    labels = json.loads(re.search(r"var labels = (\[.*?\]);", page).group(1))
    names = dict(zip(grid_plan.schools_table["school_id"], grid_plan.schools_table["name"],
                     strict=True))
    units = grid_plan.district.units.to_crs(4326)
    zones = units.dissolve(by=units["unit_id"].map(grid_plan.assignment)).geometry
    assert sorted(lab["name"] for lab in labels) == sorted(names[s] for s in zones.index)
    for lab in labels:
        school = next(s for s, n in names.items() if n == lab["name"])
        assert zones[school].buffer(1e-9).contains(shapely.Point(lab["lon"], lab["lat"]))
    assert "School names on zones" in page


def test_a_capacity_redraw_map_has_no_low_income_layer():
    units, schools, sq, proposed = grid_district()
    plan = make_plan(units, schools, proposed, sq)
    plan.summary["scenario"]["objective"] = {"balance": "none", "moved_weight": 1.0}
    page = maps.map_html(plan)
    assert "Low-income share" not in page
    assert "Low-income share of students" in maps.map_html(make_plan(units, schools, proposed, sq))
