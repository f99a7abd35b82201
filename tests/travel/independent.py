"""An independent shortest-path computation for the travel tests: its own OpenStreetMap parsing
(the standard library's XML parser, or pyosmium's handler API for .pbf), its own reading of the
contract's way rules, geodesic edge lengths, brute-force snapping and networkx's Dijkstra."""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
from pyproj import Geod, Transformer

WALK_OUT = {"motorway", "motorway_link", "trunk", "trunk_link"}
DRIVE_IN = {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
            "secondary", "secondary_link", "tertiary", "tertiary_link", "residential",
            "unclassified", "living_street", "service"}


def _ways(path: Path):
    """(tags, [(lon, lat) or None per node ref], refs) of every way, and nothing else."""
    if path.name.endswith(".pbf"):
        import osmium

        nodes: dict[int, tuple[float, float]] = {}
        ways: list[tuple[dict, list[int]]] = []

        class H(osmium.SimpleHandler):
            def node(self, n):
                nodes[n.id] = (n.location.lon, n.location.lat)

            def way(self, w):
                ways.append(({t.k: t.v for t in w.tags}, [r.ref for r in w.nodes]))

        H().apply_file(str(path))
    else:
        opener = bz2.open if path.name.endswith(".bz2") else open
        with opener(path, "rb") as fh:
            root = ET.parse(fh).getroot()
        nodes = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat")))
                 for n in root.iter("node")}
        ways = [({t.get("k"): t.get("v") for t in w.iter("tag")},
                 [int(r.get("ref")) for r in w.iter("nd")]) for w in root.iter("way")]
    return nodes, ways


def street_graph(path: Path, mode: str) -> tuple[nx.DiGraph, dict[int, tuple[float, float]]]:
    nodes, ways = _ways(path)
    geod = Geod(ellps="WGS84")
    g = nx.DiGraph()
    for tags, refs in ways:
        hw = tags.get("highway")
        if not hw:
            continue
        if mode == "walk":
            if hw in WALK_OUT or tags.get("foot") == "no" or tags.get("access") == "private":
                continue
            fwd = bwd = True
        else:
            if hw not in DRIVE_IN or tags.get("access") in ("no", "private") or \
                    tags.get("motor_vehicle") in ("no", "private") or \
                    tags.get("motorcar") in ("no", "private"):
                continue
            ow = tags.get("oneway", "")
            fwd, bwd = True, True
            if ow in ("yes", "true", "1") or (ow == "" and (hw == "motorway" or tags.get(
                    "junction") in ("roundabout", "circular"))):
                bwd = False
            elif ow in ("-1", "reverse"):
                fwd = False
        refs = [r for r in refs if r in nodes]
        for a, b in zip(refs[:-1], refs[1:], strict=True):
            if a == b:
                continue
            (x1, y1), (x2, y2) = nodes[a], nodes[b]
            km = geod.inv(x1, y1, x2, y2)[2] / 1000.0
            for u, v, ok in ((a, b, fwd), (b, a, bwd)):
                if ok and (not g.has_edge(u, v) or g[u][v]["km"] > km):
                    g.add_edge(u, v, km=km)
    return g, nodes


def road_km(path: Path, mode: str, unit_xy: np.ndarray, school_xy: np.ndarray, crs) -> np.ndarray:
    """unit x school: snap + network + snap km (inf where no path), points in ``crs`` metres."""
    g, nodes = street_graph(path, mode)
    ids = np.array(list(g.nodes))
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon = np.array([nodes[i][0] for i in ids])
    lat = np.array([nodes[i][1] for i in ids])
    nx_, ny_ = tr.transform(lon, lat)
    pts = np.column_stack([nx_, ny_])

    def snap(p):
        d = np.hypot(pts[:, 0] - p[0], pts[:, 1] - p[1])
        k = int(np.argmin(d))
        return ids[k], d[k] / 1000.0

    units = [snap(p) for p in unit_xy]
    rev = g.reverse(copy=False)
    out = np.full((len(unit_xy), len(school_xy)), np.inf)
    for j, p in enumerate(school_xy):
        sn, sd = snap(p)
        lengths = nx.single_source_dijkstra_path_length(rev, sn, weight="km")
        for i, (un, ud) in enumerate(units):
            if un in lengths:
                out[i, j] = ud + lengths[un] + sd
    return out
