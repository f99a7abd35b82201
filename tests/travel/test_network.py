"""Reading walk and drive networks: OpenStreetMap .pbf / .osm.bz2, osmnx GraphML, the way rules."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from osm_districts import HELSINKI, OAKLAND

from zoneopt.errors import ZoneoptInputError
from zoneopt.travel import TravelWarning, matrix, read_network
from zoneopt.travel.network import (
    WALK_KMH,
    parse_maxspeed,
    way_directions,
    way_speed_kmh,
    way_usable,
)


def test_pbf_and_xml_extracts_read_for_both_modes():
    for path in (HELSINKI, OAKLAND):
        walk, drive = read_network(path, "walk"), read_network(path, "drive")
        assert walk.n_nodes > drive.n_nodes > 50  # footways, paths and steps are walk-only
        assert walk.n_arcs % 2 == 0  # walking goes both ways on every way
        lon, lat = walk.lonlat.T
        assert np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)


def test_helsinki_drive_network_has_one_way_streets():
    drive = read_network(HELSINKI, "drive")
    arcs = set(zip(drive.tail.tolist(), drive.head.tolist(), strict=True))
    one_way = sum((b, a) not in arcs for a, b in arcs)
    assert one_way > 100  # central Helsinki has many one-way streets


@pytest.mark.parametrize(("tags", "mode", "usable"), [
    ({"highway": "footway"}, "walk", True),
    ({"highway": "footway"}, "drive", False),
    ({"highway": "motorway"}, "walk", False),
    ({"highway": "trunk_link"}, "walk", False),
    ({"highway": "residential", "foot": "no"}, "walk", False),
    ({"highway": "service", "access": "private"}, "walk", False),
    ({"highway": "service", "access": "private"}, "drive", False),
    ({"highway": "living_street"}, "drive", True),
    ({"highway": "primary_link"}, "drive", True),
    ({"highway": "cycleway"}, "drive", False),
    ({"building": "yes"}, "walk", False),
])
def test_way_rules_of_the_contract(tags, mode, usable):
    assert way_usable(tags, mode) is usable


def test_directions_and_speeds():
    assert way_directions({"highway": "residential", "oneway": "yes"}, "drive") == (True, False)
    assert way_directions({"highway": "residential", "oneway": "-1"}, "drive") == (False, True)
    assert way_directions({"highway": "residential", "oneway": "yes"}, "walk") == (True, True)
    assert way_directions({"highway": "motorway"}, "drive") == (True, False)
    assert way_directions({"highway": "primary", "junction": "roundabout"}, "drive") == (True, False)
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("40;30") == 40
    assert parse_maxspeed("FI:urban") is None
    assert way_speed_kmh({"highway": "residential", "maxspeed": "FI:urban"}, "drive") == 30
    assert way_speed_kmh({"highway": "primary", "maxspeed": "70"}, "drive") == 70
    assert way_speed_kmh({"highway": "primary", "maxspeed": "70"}, "walk") == WALK_KMH


def _osmnx_graphml(path, mode, out, *, simplify_middle=False):
    """A GraphML file in osmnx's layout (x/y node data, OSM tags on edges) from an extract."""
    from independent import street_graph

    g, nodes = street_graph(path, mode)
    h = nx.MultiDiGraph(crs="epsg:4326", simplified="False")
    for n in g.nodes:
        h.add_node(n, x=str(nodes[n][0]), y=str(nodes[n][1]))
    for u, v in g.edges:
        h.add_edge(u, v, highway="['residential', 'tertiary']" if u % 2 else "residential",
                   oneway="False", length=str(1000 * g[u][v]["km"]))
    if simplify_middle:
        # One simplified edge: a two-segment street whose middle node lives in 'geometry'.
        u, v, w = 1, 2, 3
        h.add_node(u, x="-122.3000", y="37.8070")
        h.add_node(w, x="-122.2990", y="37.8070")
        h.add_edge(u, w, highway="residential", geometry="LINESTRING (-122.3 37.807, -122.2995 "
                   "37.8075, -122.299 37.807)")
        del v
    nx.write_graphml(h, out)


def test_osmnx_graphml_gives_the_same_distances_as_its_osm_file(oakland_frames, tmp_path):
    units, schools = oakland_frames
    out = tmp_path / "oakland.graphml"
    _osmnx_graphml(OAKLAND, "walk", out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TravelWarning)
        from_osm = matrix(units, schools, OAKLAND, mode="walk")
        from_graphml = matrix(units, schools, out, mode="walk")
    pd.testing.assert_frame_equal(from_osm, from_graphml, check_exact=False, rtol=1e-9)


def test_graphml_edge_geometry_restores_the_middle_nodes(tmp_path):
    out = tmp_path / "one.graphml"
    _osmnx_graphml(OAKLAND, "walk", out, simplify_middle=True)
    net = read_network(out, "walk")
    plain = tmp_path / "plain.graphml"
    _osmnx_graphml(OAKLAND, "walk", plain)
    assert net.n_nodes == read_network(plain, "walk").n_nodes + 3  # two ends and the middle
    assert (np.abs(net.lonlat - [-122.2995, 37.8075]).sum(axis=1) < 1e-9).any()


def test_bad_network_files_are_clear_input_errors(tmp_path):
    with pytest.raises(ZoneoptInputError, match="does not exist"):
        read_network(tmp_path / "missing.osm.pbf", "walk")
    (tmp_path / "roads.shp").write_text("x")
    with pytest.raises(ZoneoptInputError, match="unknown network format"):
        read_network(tmp_path / "roads.shp", "walk")
    with pytest.raises(ZoneoptInputError, match="'walk' or 'drive'"):
        read_network(HELSINKI, "bike")
    (tmp_path / "empty.osm").write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    with pytest.raises(ZoneoptInputError, match="no way usable for mode 'drive'"):
        read_network(tmp_path / "empty.osm", "drive")
    (tmp_path / "broken.osm.pbf").write_bytes(b"not a pbf at all")
    with pytest.raises(ZoneoptInputError, match="could not read"):
        read_network(tmp_path / "broken.osm.pbf", "walk")


def test_projected_osmnx_graphml_is_read_back_to_longitude_latitude(oakland_frames, tmp_path):
    from pyproj import Transformer

    plain = tmp_path / "plain.graphml"
    _osmnx_graphml(OAKLAND, "walk", plain)
    g = nx.read_graphml(plain)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:32610", always_xy=True)
    for _, attrs in g.nodes(data=True):
        x, y = tr.transform(float(attrs["x"]), float(attrs["y"]))
        attrs["x"], attrs["y"] = str(x), str(y)
    g.graph["crs"] = "EPSG:32610"
    projected = tmp_path / "projected.graphml"
    nx.write_graphml(g, projected)
    a, b = read_network(plain, "walk"), read_network(projected, "walk")
    assert np.abs(a.lonlat - b.lonlat).max() < 1e-7


def test_a_graphml_saved_by_osmnx_gives_the_distances_of_its_osm_file(oakland_frames):
    """data/osm/West-Oakland.graphml was written by osmnx 2.1.1 itself (graph_from_xml of the .osm.bz2,
    simplified: curved streets keep their shape in each edge's geometry)."""
    from osm_districts import DATA

    units, schools = oakland_frames
    for mode in ("walk", "drive"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TravelWarning)
            a = matrix(units, schools, OAKLAND, mode=mode)
            b = matrix(units, schools, DATA / "West-Oakland.graphml", mode=mode)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
