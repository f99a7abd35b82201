"""Street networks from OpenStreetMap extracts: the walk and drive graphs of CONTRACT.md.

Readers: ``.osm.pbf``, ``.osm`` and ``.osm.bz2`` go through pyosmium (one reader for all three
OpenStreetMap formats, a wheel with no system libraries); osmnx's GraphML goes through the standard
library's XML parser (osmnx itself is not needed to read its files).

A :class:`Network` keeps the arcs of the mode's usable ways between consecutive OpenStreetMap nodes,
before any simplification, with each arc's speed. Arc lengths are computed by :meth:`Network.graph`
from the node coordinates projected to the district's UTM zone, the same projection as the
straight-line distances, so a road distance can never come out shorter than the straight line.

Mode definitions (CONTRACT.md, Additions):

- **walk**: every way with a ``highway`` tag except motorway, trunk and their links, and except ways
  tagged ``foot=no`` or ``access=private``; both directions, whatever ``oneway`` says.
- **drive**: ``highway`` motorway, trunk, primary, secondary, tertiary (and their ``_link``),
  residential, unclassified, living_street and service, less ways closed to cars (``access``,
  ``motor_vehicle`` or ``motorcar`` = ``no`` or ``private``); ``oneway`` respected (``yes``/``true``/
  ``1`` forward, ``-1``/``reverse`` backward; motorways and roundabouts are one-way by default).

Speeds: walking :data:`WALK_KMH`; driving at the way's ``maxspeed`` (numbers in km/h, or ``mph``),
else :data:`DRIVE_DEFAULT_KMH` for its ``highway`` class (never below :data:`MIN_DRIVE_KMH`).
"""

from __future__ import annotations

import ast
import bz2
import math
import os
import re
import xml.etree.ElementTree as ET
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ZoneoptInputError

#: Walking speed, km/h (CONTRACT.md).
WALK_KMH = 4.8

#: Driving speed by ``highway`` class where a way has no usable ``maxspeed``, km/h: typical urban
#: limits (the lower end where limits vary), so that estimated minutes are not optimistic.
DRIVE_DEFAULT_KMH: dict[str, float] = {
    "motorway": 100.0, "motorway_link": 60.0,
    "trunk": 80.0, "trunk_link": 50.0,
    "primary": 60.0, "primary_link": 40.0,
    "secondary": 50.0, "secondary_link": 40.0,
    "tertiary": 40.0, "tertiary_link": 30.0,
    "unclassified": 30.0, "residential": 30.0,
    "living_street": 10.0, "service": 15.0,
}

#: Slowest driving speed taken from ``maxspeed`` (lower values are tagging errors, e.g. "1").
MIN_DRIVE_KMH = 5.0

#: Classes that are not walkable (CONTRACT.md).
WALK_EXCLUDED = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})

MODES = ("walk", "drive")

_MPH = 1.609344
_YES = frozenset({"yes", "true", "1"})
_REVERSE = frozenset({"-1", "reverse"})
_CLOSED_TO_CARS = frozenset({"no", "private"})


@dataclass(frozen=True, eq=False)
class Network:
    """The arcs of one mode's network.

    Attributes
    ----------
    mode : str
        ``"walk"`` or ``"drive"``.
    lonlat : numpy.ndarray
        ``(n_nodes, 2)`` WGS84 longitude and latitude of every node of a usable way.
    node_ids : numpy.ndarray
        The node ids of the source file, by node position.
    tail, head : numpy.ndarray
        Arc ends (node positions): one arc per direction a way may be travelled.
    speed_kmh : numpy.ndarray
        Speed on each arc.
    source : str
        The file it was read from.
    """

    mode: str
    lonlat: np.ndarray
    node_ids: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    speed_kmh: np.ndarray
    source: str = ""

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.lonlat)

    @property
    def n_arcs(self) -> int:
        """Number of directed arcs."""
        return len(self.tail)

    def project(self, crs: Any) -> np.ndarray:
        """Node coordinates in ``crs`` (metres), ``(n_nodes, 2)``."""
        from pyproj import Transformer

        tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        x, y = tr.transform(self.lonlat[:, 0], self.lonlat[:, 1])
        return np.column_stack([x, y])

    def graph(self, xy: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The network as sparse matrices of arc lengths (km) and arc minutes.

        Parameters
        ----------
        xy
            Projected node coordinates in metres (from :meth:`project`).

        Returns
        -------
        (km, minutes) : tuple of scipy.sparse.csr_matrix
            ``km[u, v]`` is the length of the shortest arc from ``u`` to ``v``; ``minutes`` has the
            same sparsity and holds that arc's travel time.
        """
        n = self.n_nodes
        km = np.hypot(*(xy[self.head] - xy[self.tail]).T) / 1000.0
        # csgraph drops explicit zeros: two nodes at one position still need their arc.
        km = np.maximum(km, 1e-9)
        minutes = km / self.speed_kmh * 60.0
        # Parallel arcs (two ways joining the same nodes): keep the shortest; csr would add them up.
        order = np.lexsort((km, self.head, self.tail))
        t, h, k, mi = self.tail[order], self.head[order], km[order], minutes[order]
        first = np.ones(len(t), dtype=bool)
        first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
        t, h, k, mi = t[first], h[first], k[first], mi[first]
        g_km = sp.csr_matrix((k, (t, h)), shape=(n, n))
        g_min = sp.csr_matrix((mi, (t, h)), shape=(n, n))
        return g_km, g_min


# --------------------------------------------------------------------------------- way rules


def way_usable(tags: dict[str, str], mode: str) -> bool:
    """Whether a way with these tags belongs to the mode's network (see the module docstring)."""
    highway = tags.get("highway")
    if not highway:
        return False
    if mode == "walk":
        return (highway not in WALK_EXCLUDED and tags.get("foot") != "no"
                and tags.get("access") != "private")
    if highway not in DRIVE_DEFAULT_KMH:
        return False
    return not any(tags.get(k) in _CLOSED_TO_CARS for k in ("access", "motor_vehicle", "motorcar"))


def way_directions(tags: dict[str, str], mode: str) -> tuple[bool, bool]:
    """(forward, backward): the directions along the node list a way may be travelled."""
    if mode == "walk":
        return True, True
    oneway = str(tags.get("oneway", "")).strip().lower()
    if oneway in _YES:
        return True, False
    if oneway in _REVERSE:
        return False, True
    if oneway == "no":
        return True, True
    if tags.get("highway") == "motorway" or tags.get("junction") in ("roundabout", "circular"):
        return True, False
    return True, True


def way_speed_kmh(tags: dict[str, str], mode: str) -> float:
    """Travel speed on a way: walking speed, or ``maxspeed`` / the class default when driving."""
    if mode == "walk":
        return WALK_KMH
    speed = parse_maxspeed(tags.get("maxspeed"))
    if speed is None:
        return DRIVE_DEFAULT_KMH.get(tags.get("highway", ""), 30.0)
    return max(speed, MIN_DRIVE_KMH)


def parse_maxspeed(value: str | None) -> float | None:
    """``maxspeed`` in km/h (``"50"``, ``"30 mph"``, ``"50;30"`` takes the first); None if unusable."""
    if not value:
        return None
    m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph)?", str(value).split(";")[0].lower())
    if not m:
        return None  # e.g. "FI:urban", "signals", "walk": the class default is used
    speed = float(m.group(1)) * (_MPH if m.group(2) else 1.0)
    return speed if speed > 0 else None


# --------------------------------------------------------------------------------- reading


def read_network(path: str | os.PathLike, mode: str) -> Network:
    """Read the walk or drive network of an OpenStreetMap extract or an osmnx GraphML file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.bz2`` (also ``.pbf``, ``.xml``) or ``.graphml``.
    mode
        ``"walk"`` or ``"drive"``.

    Returns
    -------
    Network

    Raises
    ------
    ZoneoptInputError
        Missing or unreadable file, unknown format or mode, or no usable way in the file.
    """
    path = Path(path)
    if mode not in MODES:
        raise ZoneoptInputError(f"--mode {mode!r}: use 'walk' or 'drive'", column="mode")
    if not path.exists():
        raise ZoneoptInputError("the network file does not exist", file=path)
    name = path.name.lower()
    if name.endswith(".graphml") or name.endswith(".graphml.bz2"):
        net = _read_graphml(path, mode)
    elif name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".xml", ".osm.gz")):
        net = _read_osm(path, mode)
    else:
        raise ZoneoptInputError(
            "unknown network format; use an OpenStreetMap .osm.pbf, .osm or .osm.bz2 extract or "
            "a GraphML file saved by osmnx (.graphml)", file=path)
    if net.n_arcs == 0:
        raise ZoneoptInputError(
            f"the file has no way usable for mode '{mode}' (see the {mode} network's definition "
            "in CONTRACT.md); is it the right extract?", file=path)
    return net


def _read_osm(path: Path, mode: str) -> Network:
    import osmium

    # Typed arrays, not lists: a city extract has millions of arcs.
    ids: dict[int, int] = {}
    lon, lat = array("d"), array("d")
    tails, heads, speeds = array("q"), array("q"), array("d")
    try:
        fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
              .with_locations()
              .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
              .with_filter(osmium.filter.KeyFilter("highway")))
        for way in fp:
            tags = {t.k: t.v for t in way.tags}
            if not way_usable(tags, mode):
                continue
            fwd, bwd = way_directions(tags, mode)
            speed = way_speed_kmh(tags, mode)
            pos = []
            for nd in way.nodes:
                loc = nd.location
                if not loc.valid():
                    continue  # a node cut off by the extract's boundary
                k = ids.get(nd.ref)
                if k is None:
                    k = ids[nd.ref] = len(lon)
                    lon.append(loc.lon)
                    lat.append(loc.lat)
                pos.append(k)
            for a, b in zip(pos[:-1], pos[1:], strict=True):
                if a == b:
                    continue
                if fwd:
                    tails.append(a)
                    heads.append(b)
                    speeds.append(speed)
                if bwd:
                    tails.append(b)
                    heads.append(a)
                    speeds.append(speed)
    except RuntimeError as exc:
        raise ZoneoptInputError(f"could not read the OpenStreetMap file ({exc})", file=path) from None
    return Network(
        mode=mode,
        lonlat=np.column_stack([np.frombuffer(lon, dtype=float),
                                np.frombuffer(lat, dtype=float)]).reshape(-1, 2),
        node_ids=np.fromiter(ids.keys(), dtype=np.int64, count=len(ids)),
        tail=np.frombuffer(tails, dtype=np.int64).copy(),
        head=np.frombuffer(heads, dtype=np.int64).copy(),
        speed_kmh=np.frombuffer(speeds, dtype=float).copy(),
        source=str(path),
    )


_GML = "{http://graphml.graphdrawing.org/xmlns}"


def _graphml_value(text: str | None) -> str:
    """osmnx writes lists of tags (merged ways) as Python literals: take the first value."""
    if text is None:
        return ""
    text = text.strip()
    if text.startswith("["):
        try:
            items = ast.literal_eval(text)
            return str(items[0]) if items else ""
        except (ValueError, SyntaxError):
            return text
    return text


def _read_graphml(path: Path, mode: str) -> Network:
    """An osmnx GraphML file: nodes with ``x``/``y``, edges with OSM tags and optional geometry.

    osmnx has already turned two-way streets into a pair of opposite edges, so edge direction is
    kept for driving; walking adds the reverse of every edge. A simplified graph's edge
    ``geometry`` holds the removed intermediate nodes: they are restored as nodes, so snapping sees
    the street as mapped, as it would in the OpenStreetMap file.
    """
    opener = bz2.open if path.name.lower().endswith(".bz2") else open
    try:
        with opener(path, "rb") as fh:
            root = ET.parse(fh).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ZoneoptInputError(f"could not read the GraphML file ({exc})", file=path) from None
    keys = {k.get("id"): (k.get("for"), k.get("attr.name")) for k in root.iter(f"{_GML}key")}
    graph = root.find(f"{_GML}graph")
    if graph is None:
        raise ZoneoptInputError("the GraphML file has no <graph>", file=path)
    directed = graph.get("edgedefault", "directed") == "directed"

    def data(el) -> dict[str, str]:
        return {keys.get(d.get("key"), (None, d.get("key")))[1]: d.text or ""
                for d in el.findall(f"{_GML}data")}

    ids: dict[str, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    for node in graph.iter(f"{_GML}node"):
        attrs = data(node)
        try:
            x, y = float(attrs["x"]), float(attrs["y"])
        except (KeyError, ValueError):
            raise ZoneoptInputError(
                f"GraphML node {node.get('id')} has no numeric x/y; is this a file saved by osmnx "
                "(ox.save_graphml)?", file=path, row=node.get("id"), column="x",
            ) from None
        ids[node.get("id")] = len(lon)
        lon.append(x)
        lat.append(y)
    crs = data(graph).get("crs", "").strip()
    if crs and crs.lower() not in ("epsg:4326", "wgs84", "+proj=longlat +datum=wgs84 +no_defs"):
        # A projected graph (osmnx's project_graph): back to longitude/latitude.
        from pyproj import CRS, Transformer

        try:
            tr = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
        except Exception as exc:  # noqa: BLE001 - any pyproj failure is a bad file for the user
            raise ZoneoptInputError(f"the GraphML graph's crs {crs!r} is not understood ({exc})",
                                    file=path, column="crs") from None
        projected = True
    else:
        projected = False
    tails: list[int] = []
    heads: list[int] = []
    speeds: list[float] = []
    for edge in graph.iter(f"{_GML}edge"):
        attrs = data(edge)
        tags = {k: _graphml_value(attrs.get(k)) for k in
                ("highway", "foot", "access", "motor_vehicle", "motorcar", "oneway", "maxspeed",
                 "junction")}
        tags = {k: v for k, v in tags.items() if v}
        if not way_usable(tags, mode):
            continue
        u, v = ids.get(edge.get("source")), ids.get(edge.get("target"))
        if u is None or v is None:
            raise ZoneoptInputError(f"GraphML edge {edge.get('source')}->{edge.get('target')} "
                                    "names an unknown node", file=path)
        chain = [u]
        for px, py in _linestring(attrs.get("geometry"))[1:-1]:
            chain.append(len(lon))
            lon.append(px)
            lat.append(py)
        chain.append(v)
        speed = way_speed_kmh(tags, mode)
        both = mode == "walk" or not directed
        for a, b in zip(chain[:-1], chain[1:], strict=True):
            if a == b:
                continue
            tails.append(a)
            heads.append(b)
            speeds.append(speed)
            if both:
                tails.append(b)
                heads.append(a)
                speeds.append(speed)
    lonlat = np.column_stack([np.asarray(lon, float), np.asarray(lat, float)]).reshape(-1, 2)
    if projected and len(lonlat):
        lonlat = np.column_stack(tr.transform(lonlat[:, 0], lonlat[:, 1]))
    return Network(
        mode=mode,
        lonlat=lonlat,
        node_ids=np.asarray(list(ids.keys()) + [f"geometry:{i}" for i in range(len(lon) - len(ids))],
                            dtype=object),
        tail=np.asarray(tails, dtype=np.int64),
        head=np.asarray(heads, dtype=np.int64),
        speed_kmh=np.asarray(speeds, dtype=float),
        source=str(path),
    )


def _linestring(wkt: str | None) -> list[tuple[float, float]]:
    if not wkt or "LINESTRING" not in wkt.upper():
        return []
    inner = wkt[wkt.index("(") + 1 : wkt.rindex(")")]
    out = []
    for pair in inner.split(","):
        parts = pair.split()
        if len(parts) >= 2 and all(math.isfinite(float(p)) for p in parts[:2]):
            out.append((float(parts[0]), float(parts[1])))
    return out


def grid_network(rows: int, cols: int, *, spacing_m: float = 100.0, origin: tuple[float, float]
                 = (-121.5, 38.5), mode: str = "walk") -> Network:
    """A generated street grid (for benchmarks and tests): ``rows x cols`` nodes, ``spacing_m`` apart.

    Parameters
    ----------
    rows, cols
        Nodes per column and per row.
    spacing_m
        Block length in metres (approximately: the grid is laid out in degrees).
    origin
        Longitude and latitude of the south-west corner.
    mode
        The mode the network is labelled with (every street is two-way, residential speed).
    """
    lon0, lat0 = origin
    dlat = spacing_m / 111_320.0
    dlon = spacing_m / (111_320.0 * math.cos(math.radians(lat0)))
    r, c = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    lonlat = np.column_stack([lon0 + c.ravel() * dlon, lat0 + r.ravel() * dlat])
    idx = np.arange(rows * cols).reshape(rows, cols)
    a = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    b = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    speed = WALK_KMH if mode == "walk" else DRIVE_DEFAULT_KMH["residential"]
    return Network(
        mode=mode, lonlat=lonlat, node_ids=np.arange(rows * cols, dtype=np.int64),
        tail=np.concatenate([a, b]), head=np.concatenate([b, a]),
        speed_kmh=np.full(2 * len(a), speed), source=f"grid {rows}x{cols}",
    )
