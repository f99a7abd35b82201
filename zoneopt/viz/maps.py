"""Interactive folium maps of attendance zones that work with no internet.

The maps embed Leaflet 1.9.4 (``assets/``, see ``assets/README.md``) and every script and style
they use, so zones, school markers, popups and the legend render from a file opened in a board
room with no network; only the optional basemap tiles need a connection. jQuery, Bootstrap and
the icon fonts that folium loads from CDNs by default are not used: markers are plain circle
markers, popups and tooltips are plain Leaflet.

Geometry is simplified before it is embedded, with :data:`SIMPLIFY_TOLERANCE_M` metres of
tolerance, by *coverage* simplification (``GeoSeries.simplify_coverage``): each boundary shared
by two units is simplified once, so neighbours still share it exactly (no slivers, no gaps).
Coordinates are then rounded to :data:`COORD_DECIMALS` decimals of a degree (about 1 m) and
embedded as encoded polylines, which the page decodes to GeoJSON when it opens.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from zoneopt.errors import ZoneoptInputError
from zoneopt.viz import _templates

__all__ = [
    "SIMPLIFY_TOLERANCE_M",
    "COORD_DECIMALS",
    "ZONE_PALETTE",
    "SHARE_PALETTE",
    "LEAFLET_VERSION",
    "zones_map",
    "plan_map",
    "map_html",
    "render_map",
    "simplify_coverage",
]

#: Tolerance of the topology-preserving simplification, in metres. Census block groups are
#: hundreds of metres across, so 10 m is invisible at the zooms a district is viewed at while it
#: removes most of TIGER's vertices.
SIMPLIFY_TOLERANCE_M = 10.0
#: Decimals of a degree kept in embedded coordinates (1e-5 degree is about 1.1 m).
COORD_DECIMALS = 5
#: Zone fill colours: the Okabe-Ito palette (distinguishable with the common colour-vision
#: deficiencies), without its black. Neighbouring zones get different colours (graph colouring).
ZONE_PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
)
#: Sequential classes of the low-income share (viridis: ordered in lightness, colour-blind safe).
SHARE_PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
NO_STUDENTS_COLOR = "#d9d9d9"
_JENKS_MAX_VALUES = 600
LEAFLET_VERSION = "1.9.4"

_PANES = {
    # name: z-index. Leaflet's overlayPane is 400, markerPane 600, tooltipPane 650.
    "zoneoptCurrent": 410,
    "zoneoptProposed": 420,
    "zoneoptShare": 430,
    "zoneoptChanged": 440,
    "zoneoptOutlines": 450,
    "zoneoptSchools": 620,
}

_LAYER_CURRENT = "Current zones"
_LAYER_PROPOSED = "Proposed zones"
_LAYER_ZONES = "Zones"
_LAYER_SHARE = "Low-income share of students"
_LAYER_CHANGED = "Units that change school"
_LAYER_SCHOOLS = "Schools"
_LAYER_BASEMAP = "Basemap (needs internet)"


# --------------------------------------------------------------------------------------------
# Package files


_asset_text = _templates.asset_text
_template_text = _templates.template_text


@lru_cache(maxsize=1)
def _inline_head() -> str:
    """The ``<style>`` and ``<script>`` blocks that replace folium's CDN links."""
    css = _asset_text("leaflet.css")
    # leaflet.css points at images next to it; the layer-control icons are inlined so nothing is
    # fetched (the marker-icon image is unused: schools are circle markers).
    for image in ("layers-2x.png", "layers.png"):
        data = base64.b64encode(_templates.asset_bytes(image)).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    # Only Leaflet's default pin markers read this one; zoneopt draws none, so nothing to fetch.
    css = css.replace("url(images/marker-icon.png)", "none")
    js = _asset_text("leaflet.js")
    # A literal "</script" inside the script would end the element early.
    js = js.replace("</script", "<\\/script")
    return (
        f"<style>/* Leaflet {LEAFLET_VERSION} (BSD-2-Clause) */\n{css}</style>\n"
        f"<style>{_template_text('map.css')}</style>\n"
        f"<script>{js}</script>\n"
    )


def _js_json(obj: Any) -> str:
    """JSON safe to put inside a ``<script>`` element (no ``</script>``, no HTML breakout)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------------------------
# Map elements


class _Raw(Element):
    """Text put into the page as it is.

    branca wraps each rendered script in ``Element(text)``, which compiles the text as a Jinja
    template a second time: data containing ``{{ ... }}`` (a school named so, or an encoded
    geometry) would be evaluated. Text held here is never templated again.
    """

    def __init__(self, text: str):
        super().__init__("")
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _RawScript(MacroElement):
    """A MacroElement whose rendered ``script`` macro goes into the page without re-templating."""

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("zoneopt map elements render inside a folium Map's Figure")
        script = self._template.module.__dict__.get("script")
        if script is not None:
            figure.script.add_child(_Raw(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _InlineAssets(MacroElement):
    """Puts Leaflet's script and style, and zoneopt's map style, inline in the page head."""

    _template = Template("")

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.header.add_child(_Raw(_inline_head()), name="zoneopt_inline_assets")
        super().render(**kwargs)


class _Runtime(_RawScript):
    def __init__(self, units: list, schools: list, zones: list, current: list, with_plan: bool):
        super().__init__()
        self._name = "ZoneoptRuntime"
        self._template = Template(_template_text("runtime.js.j2"))
        self.data_name = "zoneoptUnits"
        self.units_json = _js_json(units)
        self.schools_json = _js_json(schools)
        self.zones_json = _js_json(zones)
        self.current_zones_json = _js_json(current)
        self.with_plan = with_plan
        self.scale = 10**COORD_DECIMALS


class _UnitsLayer(Layer, _RawScript):
    def __init__(
        self, name: str, *, pane: str, style_js: str, filter_js: str = "true", show: bool = True
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ZoneoptUnits"
        self._template = Template(_template_text("units_layer.js.j2"))
        self.data_name = "zoneoptUnits"
        self.pane = pane
        self.style_js = style_js
        self.filter_js = filter_js
        self.interactive = True


class _OutlineLayer(Layer, _RawScript):
    def __init__(self, name: str, *, zones_var: str, pane: str, style_js: str, show: bool):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ZoneoptOutlines"
        self._template = Template(_template_text("zone_outlines.js.j2"))
        self.zones_var = zones_var
        self.pane = pane
        self.style_js = style_js


class _SchoolsLayer(Layer, _RawScript):
    def __init__(self, name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ZoneoptSchools"
        self._template = Template(_template_text("schools_layer.js.j2"))
        self.pane = "zoneoptSchools"


class _FitBounds(_RawScript):
    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "ZoneoptFitBounds"
        self._template = Template(_template_text("fit_bounds.js.j2"))
        self.bounds = bounds


class _Legend(_RawScript):
    def __init__(
        self,
        *,
        classes: list[dict],
        zones_title: str,
        choropleth_name: str,
        choropleth_shown: bool,
        title: str,
        list_zones: bool,
        with_plan: bool,
    ):
        super().__init__()
        self._name = "ZoneoptLegend"
        self._template = Template(_template_text("legend.js.j2"))
        self.classes_json = _js_json(classes)
        self.classes_title = "Low-income share (Fisher-Jenks classes)"
        self.zones_title = zones_title
        self.choropleth_name = choropleth_name
        self.choropleth_shown = choropleth_shown
        self.title = title
        self.list_zones = list_zones
        self.with_plan = with_plan


# --------------------------------------------------------------------------------------------
# Data preparation


def _to_local(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    """A copy in a metric CRS: the frame's own if projected in metres, else its UTM zone."""
    if gdf.crs is None:
        raise ZoneoptInputError(
            f"the {what} have no coordinate reference system; set one (e.g. gdf.set_crs(...)) "
            "before drawing a map",
            column="geometry",
        )
    out = gdf.copy()
    units = {a.unit_name.lower() for a in out.crs.axis_info}
    # Geographic degrees, or a projection in feet (State Plane): move to the UTM zone, so that
    # tolerances and distances are metres.
    if out.crs.is_geographic or not units <= {"metre", "meter", "m"}:
        out = out.to_crs(out.estimate_utm_crs())
    return out


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise ZoneoptInputError(
                f"the {what} have no column '{column}'; add it (see CONTRACT.md, Inputs)",
                column=column,
            )


def simplify_coverage(
    geoms: gpd.GeoSeries, tolerance: float = SIMPLIFY_TOLERANCE_M
) -> gpd.GeoSeries:
    """Simplify polygons that tile an area so that shared boundaries stay shared.

    Parameters
    ----------
    geoms
        Polygons in a metric CRS that do not overlap (a coverage, as census units are).
    tolerance
        Largest distance, in the CRS units (metres), a simplified edge may move.

    Returns
    -------
    geopandas.GeoSeries
        Simplified polygons, same index. When ``geoms`` is not a valid coverage (overlaps or
        edges that do not match), each polygon is simplified on its own with
        ``preserve_topology=True`` and a fifth of the tolerance, which keeps every polygon valid
        and bounds any gap between neighbours to that small distance.
    """
    values = geoms.values
    if len(values) and shapely.coverage_is_valid(values, gap_width=0.0):
        return geoms.simplify_coverage(tolerance)
    return geoms.simplify(tolerance / 5.0, preserve_topology=True)


def _encode_ring(coords: np.ndarray) -> str:
    """One ring in the encoded-polyline format (x then y, 1e-5 degree steps, zigzag deltas)."""
    ints = np.round(np.asarray(coords)[:, :2] * 10**COORD_DECIMALS).astype(np.int64)
    deltas = np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    out = []
    for v in deltas.tolist():
        v = ~(v << 1) if v < 0 else v << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


def _encode_geometry(geom: Any) -> list[list[str]]:
    """A (multi)polygon as a list of polygons, each a list of encoded rings (exterior first)."""
    polys = shapely.get_parts(geom) if geom.geom_type == "MultiPolygon" else [geom]
    return [
        [_encode_ring(np.asarray(p.exterior.coords))]
        + [_encode_ring(np.asarray(r.coords)) for r in p.interiors]
        for p in polys
        if not p.is_empty
    ]


def _feature_collection(geoms: Sequence, props: Sequence[dict]) -> list[dict]:
    """Features as ``{"p": properties, "g": encoded polygons}``; the page decodes them to GeoJSON.

    Encoding each ring as deltas of 1e-5 degree (Google's encoded-polyline scheme) takes about a
    quarter of the bytes of GeoJSON text; vertices land on the same 1e-5 grid as plain rounding,
    so boundaries shared by two units stay identical.
    """
    features = []
    for geom, p in zip(geoms, props, strict=True):
        if geom is None or geom.is_empty:
            continue
        features.append({"p": p, "g": _encode_geometry(geom)})
    return features


def _dissolve(geoms: gpd.GeoSeries, labels: pd.Series, order: Sequence[str]) -> dict[str, Any]:
    out = {}
    for school in order:
        mask = (labels == school).to_numpy()
        if mask.any():
            out[school] = shapely.union_all(geoms.values[mask])
    return out


def _zone_colors(school_ids: list[str], zonings: list[dict[str, Any]]) -> dict[str, str]:
    """Colour each school so that zones which touch (in any of the zonings) differ."""
    graph = nx.Graph()
    graph.add_nodes_from(school_ids)
    for zones in zonings:
        ids = [s for s in school_ids if s in zones]
        if len(ids) < 2:
            continue
        geoms = [zones[s] for s in ids]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j:
                shared = geoms[i].boundary.intersection(geoms[j].boundary)
                # Rook adjacency as in CONTRACT.md: a shared edge, not a corner.
                if shared.length >= 0.01:
                    graph.add_edge(ids[i], ids[j])
    # Greedy colouring, most-connected zones first (ties in school order: deterministic), that
    # picks the least-used colour its neighbours do not have, so the whole palette is spread out
    # rather than the fewest colours reused. Planar maps rarely need more than 5 colours; with
    # more conflicts than colours, the least-used colour is reused.
    order = sorted(school_ids, key=lambda s: (-graph.degree[s], school_ids.index(s)))
    used = [0] * len(ZONE_PALETTE)
    chosen: dict[str, int] = {}
    for s in order:
        taken = {chosen[t] for t in graph.neighbors(s) if t in chosen}
        free = [c for c in range(len(ZONE_PALETTE)) if c not in taken] or list(
            range(len(ZONE_PALETTE))
        )
        near = [chosen[t] for t in graph.neighbors(s) if t in chosen]

        def contrast(c: int, near: list[int] = near) -> float:
            # Among equally used colours, the one least like its neighbours' (sky blue next to
            # blue is legal but weak).
            return min((_rgb_distance(ZONE_PALETTE[c], ZONE_PALETTE[t]) for t in near), default=0)

        c = min(free, key=lambda c: (used[c], -contrast(c), c))
        chosen[s] = c
        used[c] += 1
    return {s: ZONE_PALETTE[chosen[s]] for s in school_ids}


def _rgb_distance(a: str, b: str) -> float:
    """Euclidean distance of two #rrggbb colours, red and blue weighted as in "redmean"."""
    ra, ga, ba = (int(a[i : i + 2], 16) for i in (1, 3, 5))
    rb, gb, bb = (int(b[i : i + 2], 16) for i in (1, 3, 5))
    rmean = (ra + rb) / 2
    return math.sqrt(
        (2 + rmean / 256) * (ra - rb) ** 2
        + 4 * (ga - gb) ** 2
        + (2 + (255 - rmean) / 256) * (ba - bb) ** 2
    )


def _share_classes(shares: np.ndarray) -> tuple[np.ndarray, list[str], list[dict]]:
    """Fisher-Jenks classes of the units' low-income shares.

    Returns
    -------
    classes
        Class index per unit; -1 for units without students (share undefined).
    colors
        Fill colour of each class.
    legend
        ``{"color", "label"}`` entries, the classes in order then "no students" if any.
    """
    valid = ~np.isnan(shares)
    cls = np.full(len(shares), -1, dtype=int)
    colors: list[str] = []
    legend: list[dict] = []
    values = shares[valid]
    if values.size:
        k = int(min(len(SHARE_PALETTE), np.unique(values).size))
        if k >= 2:
            # Fisher-Jenks is quadratic in the number of values (pure Python without numba):
            # past _JENKS_MAX_VALUES, breaks come from evenly spaced order statistics
            # (deterministic, unlike FisherJenksSampled) and then classify every unit.
            sample = values
            if values.size > _JENKS_MAX_VALUES:
                sample = np.quantile(values, np.linspace(0, 1, _JENKS_MAX_VALUES))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Numba not installed")
                bins = mapclassify.FisherJenks(sample, k=k).bins
            classifier = mapclassify.UserDefined(values, bins=list(bins[:-1]) + [values.max()])
            cls[valid] = classifier.yb
            edges = [float(values.min())] + [float(b) for b in classifier.bins]
        else:
            cls[valid] = 0
            edges = [float(values.min()), float(values.max())]
        colors = _spread(SHARE_PALETTE, len(edges) - 1)
        for c in range(len(edges) - 1):
            lo, hi = edges[c], edges[c + 1]
            legend.append({"color": colors[c], "label": f"{100 * lo:.0f}% to {100 * hi:.0f}%"})
    if (~valid).any():
        legend.append({"color": NO_STUDENTS_COLOR, "label": "no students"})
    return cls, colors, legend


def _spread(palette: Sequence[str], k: int) -> list[str]:
    if k <= 1:
        return [palette[len(palette) // 2]]
    idx = np.linspace(0, len(palette) - 1, k).round().astype(int)
    return [palette[i] for i in idx]


def _fmt_int(x: Any) -> str:
    return "n/a" if _missing(x) else f"{int(round(float(x))):,}"


def _fmt_pct(x: Any, digits: int = 1) -> str:
    return "n/a" if _missing(x) else f"{100 * float(x):.{digits}f}%"


def _fmt_km(x: Any) -> str:
    return "n/a" if _missing(x) else f"{float(x):.2f} km"


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x)) or (isinstance(x, float) and math.isinf(x))
    except (TypeError, ValueError):
        return False


def _school_stats(
    units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, assignment: pd.Series
) -> pd.DataFrame:
    """Enrollment, utilization, low-income share and mean distance of each school's zone."""
    assigned = units["unit_id"].map(assignment)
    students = units["students"].to_numpy(dtype=float)
    low = units["low_income"].to_numpy(dtype=float)
    cent = units.geometry.centroid
    rows = []
    for _, s in schools.iterrows():
        mask = (assigned == s["school_id"]).to_numpy()
        n = students[mask].sum()
        dist = cent[mask].distance(s.geometry).to_numpy() / 1000.0
        rows.append(
            {
                "school_id": s["school_id"],
                "enrollment": n,
                "utilization": n / float(s["capacity"]) if float(s["capacity"]) > 0 else np.nan,
                "low_income_share": low[mask].sum() / n if n > 0 else np.nan,
                "mean_distance_km": float((dist * students[mask]).sum() / n) if n > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("school_id")


def _popup_html(name: str, capacity: Any, rows: list, before_after: bool) -> str:
    template = _templates.env().get_template("school_popup.html")
    return template.render(
        name=name, capacity=_fmt_int(capacity), rows=rows, before_after=before_after
    )


# --------------------------------------------------------------------------------------------
# Public API


def zones_map(
    units: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    assignment: pd.Series,
    *,
    basemap: bool = True,
    title: str = "",
) -> folium.Map:
    """Map of one set of attendance zones (for instance today's, before any plan).

    Parameters
    ----------
    units
        Units with ``unit_id``, ``students``, ``low_income`` and polygon geometry, in any CRS
        (projected to its UTM zone for the figures). An extra ``low_income_share_cv`` column is
        shown in the tooltips.
    schools
        School points with ``school_id``, ``capacity`` and optional ``name``.
    assignment
        School id per unit id (index ``unit_id``). Units missing from it are drawn grey.
    basemap
        Add an OpenStreetMap basemap layer (the only part that needs internet).
    title
        Shown at the top left of the map and as the page title; empty for none.

    Returns
    -------
    folium.Map
        A self-contained map: zones filled by school, school markers with popups (name,
        capacity, enrollment, utilization, low-income share, mean distance), a low-income
        choropleth layer with its legend, and a layer control.
    """
    return _build_map(units, schools, assignment, None, None, basemap=basemap, title=title)


def plan_map(plan: Any, *, basemap: bool = True) -> folium.Map:
    """Map of a plan: proposed and current zones, schools before and after, moved units.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` (or any object with its ``district``, ``assignment``,
        ``status_quo``, ``schools_table`` and ``title`` attributes).
    basemap
        Add a light basemap layer (the only part of the map that needs internet).

    Returns
    -------
    folium.Map
        Layers (toggleable): current zones, proposed zones with the units' tooltips (GEOID,
        students, low-income share, school today and proposed), low-income choropleth with
        legend, units that change school, and schools (popups with name, capacity, enrollment,
        utilization, low-income share and mean distance, today and proposed).
    """
    district = plan.district
    title = getattr(plan, "title", "") or "Proposed attendance zones"
    assignment = plan.assignment if plan.assignment is not None else plan.status_quo
    from .walkzones import add_travel_layers

    return add_travel_layers(_build_map(
        district.units,
        district.schools,
        assignment,
        plan.status_quo,
        plan.schools_table,
        basemap=basemap,
        title=title,
    ), plan)


def render_map(m: folium.Map) -> str:
    """The complete HTML text of a map, with folium's random element ids made deterministic.

    Parameters
    ----------
    m
        A map built by :func:`zones_map` or :func:`plan_map`.

    Returns
    -------
    str
        The page; the same map contents always give the same text.
    """
    root = m.get_root()
    text = root.render()
    return _stable_ids(root, text)


def map_html(plan: Any) -> str:
    """The complete, self-contained text of ``map.html`` for a plan.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan`.

    Returns
    -------
    str
        HTML with Leaflet and all styles inline; deterministic for a given plan.
    """
    return render_map(plan_map(plan, basemap=True))


def _stable_ids(root: Element, text: str) -> str:
    """Replace branca's random 32-hex element ids by ids numbered in order of appearance."""
    ids: set[str] = set()
    stack = [root]
    seen: set[int] = set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        if isinstance(getattr(el, "_id", None), str):
            ids.add(el._id)
        stack.extend(getattr(el, "_children", {}).values())
        for attr in ("header", "html", "script"):
            child = getattr(el, attr, None)
            if isinstance(child, Element):
                stack.append(child)
    if not ids:
        return text
    order: dict[str, str] = {}
    pattern = re.compile("|".join(sorted(map(re.escape, ids))))

    def repl(match: re.Match) -> str:
        key = match.group(0)
        if key not in order:
            order[key] = f"{len(order):032x}"
        return order[key]

    return pattern.sub(repl, text)


@dataclass
class _Prepared:
    """Units and schools in one metric CRS, with each unit's school today and proposed."""

    units: gpd.GeoDataFrame
    schools: gpd.GeoDataFrame
    school_ids: list[str]
    names: list[str]
    new: pd.Series  # school id (or None) per unit position
    old: pd.Series

    @property
    def index_of(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.school_ids)}


def _prepare(
    units: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    assignment: pd.Series,
    status_quo: pd.Series | None,
) -> _Prepared:
    _require_columns(units, ["unit_id", "students", "low_income", "geometry"], "units")
    _require_columns(schools, ["school_id", "capacity", "geometry"], "schools")
    units = _to_local(units, "units").reset_index(drop=True)
    schools = _to_local(schools, "schools").to_crs(units.crs).reset_index(drop=True)
    units["unit_id"] = units["unit_id"].astype(str)
    schools["school_id"] = schools["school_id"].astype(str)
    school_ids = schools["school_id"].tolist()
    raw_names = schools["name"] if "name" in schools.columns else pd.Series([None] * len(schools))
    names = [sid if _missing(n) else str(n) for sid, n in zip(school_ids, raw_names, strict=True)]
    known = set(school_ids)

    def per_unit(series: pd.Series, what: str) -> pd.Series:
        series = pd.Series(series).copy()
        series.index = series.index.astype(str)
        mapped = units["unit_id"].map(series)
        bad = sorted({str(v) for v in mapped.dropna() if str(v) not in known})
        if bad:
            raise ZoneoptInputError(
                f"the {what} names school ids not among the schools: {', '.join(bad[:5])}; "
                "use ids from the schools file",
                column="school_id",
            )
        return mapped.map(lambda v: None if _missing(v) else str(v))

    new = per_unit(assignment, "assignment")
    old = per_unit(status_quo, "status quo") if status_quo is not None else new
    return _Prepared(units, schools, school_ids, names, new, old)


def _unit_features(
    d: _Prepared, simplified: gpd.GeoSeries
) -> tuple[list[dict], list[str], list[dict]]:
    """Encoded unit features (properties: id, students, share, schools, class), class colours
    and the choropleth legend."""
    index_of = d.index_of
    students = d.units["students"].to_numpy(dtype=float)
    low = d.units["low_income"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(students > 0, low / np.where(students > 0, students, 1), np.nan)
    cls, class_colors, legend = _share_classes(shares)
    has_cv = "low_income_share_cv" in d.units.columns
    props = []
    for i in range(len(d.units)):
        p: dict[str, Any] = {
            "u": d.units.at[i, "unit_id"],
            "s": int(students[i]),
            "p": None if np.isnan(shares[i]) else round(float(shares[i]), 4),
            "n": -1 if d.new.iat[i] is None else index_of[d.new.iat[i]],
            "o": -1 if d.old.iat[i] is None else index_of[d.old.iat[i]],
            "k": int(cls[i]),
        }
        if has_cv:
            cv = d.units.at[i, "low_income_share_cv"]
            p["cv"] = None if _missing(cv) else round(float(cv), 3)
        props.append(p)
    return _feature_collection(simplified.to_crs(4326), props), class_colors, legend


def _zone_features(d: _Prepared, zones: dict[str, Any]) -> list[dict]:
    index_of = d.index_of
    geoms = gpd.GeoSeries(list(zones.values()), crs=d.units.crs).to_crs(4326)
    return _feature_collection(geoms, [{"n": index_of[s]} for s in zones])


def _school_markers(
    d: _Prepared, colors: dict[str, str], schools_table: pd.DataFrame | None
) -> list[dict]:
    """Position, colour and popup HTML of each school.

    With a plan's ``schools_table`` the popup shows today and proposed; otherwise the figures of
    the drawn zones are computed here.
    """
    table = None
    if schools_table is not None:
        table = schools_table.copy()
        table["school_id"] = table["school_id"].astype(str)
        table = table.set_index("school_id")
    stats = None
    schools_wgs = d.schools.to_crs(4326)
    out = []
    for i, sid in enumerate(d.school_ids):
        cap = d.schools.at[i, "capacity"]
        if table is not None and sid in table.index:
            r = table.loc[sid]
            rows = [
                ("Enrollment", _fmt_int(r["enrollment_before"]), _fmt_int(r["enrollment_after"])),
                (
                    "Utilization",
                    _fmt_pct(r["utilization_before"], 0),
                    _fmt_pct(r["utilization_after"], 0),
                ),
                (
                    "Low-income share",
                    _fmt_pct(r["low_income_share_before"]),
                    _fmt_pct(r["low_income_share_after"]),
                ),
                (
                    "Mean distance",
                    _fmt_km(r["mean_distance_km_before"]),
                    _fmt_km(r["mean_distance_km_after"]),
                ),
            ]
            popup = _popup_html(d.names[i], cap, rows, before_after=True)
        else:
            if stats is None:
                by_unit = pd.Series(d.new.to_numpy(), index=d.units["unit_id"].to_numpy())
                stats = _school_stats(d.units, d.schools, by_unit.dropna())
            r = stats.loc[sid]
            rows = [
                ("Enrollment", _fmt_int(r["enrollment"])),
                ("Utilization", _fmt_pct(r["utilization"], 0)),
                ("Low-income share", _fmt_pct(r["low_income_share"])),
                ("Mean distance", _fmt_km(r["mean_distance_km"])),
            ]
            popup = _popup_html(d.names[i], cap, rows, before_after=False)
        pt = schools_wgs.geometry.iat[i]
        out.append(
            {
                "id": sid,
                "name": d.names[i],
                "lat": round(float(pt.y), 6),
                "lon": round(float(pt.x), 6),
                "color": colors[sid],
                "popup": popup,
            }
        )
    return out


def _build_map(
    units: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    assignment: pd.Series,
    status_quo: pd.Series | None,
    schools_table: pd.DataFrame | None,
    *,
    basemap: bool,
    title: str,
) -> folium.Map:
    with_plan = status_quo is not None
    d = _prepare(units, schools, assignment, status_quo)
    simplified = simplify_coverage(d.units.geometry)
    zones_new = _dissolve(simplified, d.new, d.school_ids)
    zones_old = _dissolve(simplified, d.old, d.school_ids) if with_plan else {}
    colors = _zone_colors(d.school_ids, [zones_new, zones_old] if with_plan else [zones_new])
    unit_features, class_colors, legend_classes = _unit_features(d, simplified)
    markers = _school_markers(d, colors, schools_table if with_plan else None)

    minx, miny, maxx, maxy = (float(v) for v in simplified.to_crs(4326).total_bounds)
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        raise ZoneoptInputError("the units have no drawable geometry", column="geometry")
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=12,
        tiles=None,
        control_scale=True,
        # Quarter zoom steps let fitBounds fill the frame (a report iframe is narrower).
        zoom_snap=0.25,
        zoom_delta=0.5,
    )
    # Instance attributes shadow folium's CDN lists: Leaflet comes inline from _InlineAssets.
    m.default_js = []
    m.default_css = []
    m.add_child(_InlineAssets(), name="zoneopt_assets")
    if title:
        # branca puts the title into <title> unescaped.
        m.get_root().title = html.escape(title)
    for pane, z in _PANES.items():
        folium.map.CustomPane(pane, z_index=z, pointer_events=True).add_to(m)
    if basemap:
        folium.TileLayer(
            "OpenStreetMap", name=_LAYER_BASEMAP, overlay=True, control=True, show=True
        ).add_to(m)

    _Runtime(
        unit_features,
        markers,
        _zone_features(d, zones_new),
        _zone_features(d, zones_old),
        with_plan,
    ).add_to(m)
    colors_js = _js_json([colors[s] for s in d.school_ids])
    fill_by = (
        "{{color: '#ffffff', weight: 0.6, opacity: 0.9, fillOpacity: 0.55, "
        "fillColor: p.{key} < 0 ? '#bbbbbb' : {colors}[p.{key}]}}"
    )
    if with_plan:
        _UnitsLayer(
            _LAYER_CURRENT,
            pane="zoneoptCurrent",
            style_js=fill_by.format(key="o", colors=colors_js),
            show=False,
        ).add_to(m)
        _OutlineLayer(
            _LAYER_CURRENT + " (outlines)",
            zones_var="zoneoptCurrentZones",
            pane="zoneoptOutlines",
            style_js="{color: '#222222', weight: 2.5, dashArray: '6 5', fill: false}",
            show=False,
        ).add_to(m)
    zones_name = _LAYER_PROPOSED if with_plan else _LAYER_ZONES
    _UnitsLayer(
        zones_name, pane="zoneoptProposed", style_js=fill_by.format(key="n", colors=colors_js)
    ).add_to(m)
    _OutlineLayer(
        zones_name + " (outlines)",
        zones_var="zoneoptZones",
        pane="zoneoptOutlines",
        style_js="{color: '#111111', weight: 3, opacity: 0.9, fill: false}",
        show=True,
    ).add_to(m)
    _UnitsLayer(
        _LAYER_SHARE,
        pane="zoneoptShare",
        style_js=(
            "{color: '#ffffff', weight: 0.5, fillOpacity: 0.8, fillColor: p.k < 0 ? "
            f"'{NO_STUDENTS_COLOR}' : {_js_json(class_colors)}[p.k]}}"
        ),
        show=False,
    ).add_to(m)
    if with_plan:
        _UnitsLayer(
            _LAYER_CHANGED,
            pane="zoneoptChanged",
            filter_js="f.properties.o !== f.properties.n",
            # Emphasis without colour, so it survives greyscale printing: dashed edge, grey veil.
            style_js=(
                "{color: '#000000', weight: 2, dashArray: '3 3', fillColor: '#000000', "
                "fillOpacity: 0.18}"
            ),
            show=True,
        ).add_to(m)
    _SchoolsLayer(_LAYER_SCHOOLS).add_to(m)
    _Legend(
        classes=legend_classes,
        zones_title="Proposed zones" if with_plan else "Zones",
        choropleth_name=_LAYER_SHARE,
        choropleth_shown=False,
        title=title,
        # Past the palette's size colours repeat, so a colour-to-name list would mislead.
        list_zones=len(d.school_ids) <= len(ZONE_PALETTE),
        with_plan=with_plan,
    ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _FitBounds([[miny, minx], [maxy, maxx]]).add_to(m)
    return m
