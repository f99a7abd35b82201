"""Interactive folium maps of attendance zones that work with no internet: the map's assembly.

The page is built from four parts, each in its own module: the embedded Leaflet and the folium
elements that carry zoneopt's scripts (:mod:`zoneopt.viz.map_assets`), the simplified and encoded
geometry (:mod:`zoneopt.viz.map_geometry`), the colours and classes
(:mod:`zoneopt.viz.map_colours`) and the school markers with their popups
(:mod:`zoneopt.viz.map_popups`). This module prepares a plan's data and puts the layers together.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import polylabel

from zoneopt.desk import suppress
from zoneopt.errors import ZoneoptInputError
from zoneopt.viz.map_assets import (
    LEAFLET_VERSION,
    _FitBounds,
    _InlineAssets,
    _Legend,
    _OutlineLayer,
    _Runtime,
    _SchoolsLayer,
    _UnitsLayer,
    _ZoneLabels,
    js_json,
    stable_ids,
)
from zoneopt.viz.map_colours import (
    NO_STUDENTS_COLOR,
    SHARE_PALETTE,
    ZONE_PALETTE,
    legend_corner,
    share_classes,
    zone_colors,
)
from zoneopt.viz.map_geometry import (
    COORD_DECIMALS,
    SIMPLIFY_TOLERANCE_M,
    dissolve,
    feature_collection,
    require_columns,
    simplify_coverage,
    to_local,
)
from zoneopt.viz.map_popups import missing, school_markers

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

_PANES = {
    # name: z-index. Leaflet's overlayPane is 400, markerPane 600, tooltipPane 650.
    "zoneoptCurrent": 410,
    "zoneoptProposed": 420,
    "zoneoptShare": 430,
    "zoneoptChanged": 440,
    "zoneoptOutlines": 450,
    "zoneoptLabels": 610,
    "zoneoptSchools": 620,
}

_LAYER_CURRENT = "Current zones"
_LAYER_PROPOSED = "Proposed zones"
_LAYER_ZONES = "Zones"
_LAYER_SHARE = "Low-income share of students"
_LAYER_CHANGED = "Units that change school"
_LAYER_SCHOOLS = "Schools"
_LAYER_LABELS = "School names on zones"
_LAYER_BASEMAP = "Basemap (needs internet)"


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
    scenario = getattr(plan, "scenario", None)
    below = scenario.report.suppress_below if scenario is not None else 0
    assignment = plan.assignment if plan.assignment is not None else plan.status_quo
    summary_scenario = (getattr(plan, "summary", None) or {}).get("scenario") or {}
    balance = (summary_scenario.get("objective") or {}).get("balance", "dissimilarity")
    m = _build_map(
        district.units,
        district.schools,
        assignment,
        plan.status_quo,
        plan.schools_table,
        basemap=basemap,
        title=title,
        suppress_below=below,
        # A capacity redraw (balance "none") makes no claim about low-income students.
        with_share=balance != "none",
    )
    from .feeders import add_middle_zones_layer
    from .tiers import add_ses_layers  # SES tiers and monitored groups, when the units have them
    from .walkzones import add_travel_layers  # walk zones and barriers, when used

    return add_travel_layers(add_ses_layers(add_middle_zones_layer(m, plan), plan), plan)


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
    return stable_ids(root, text)


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


@dataclass
class Prepared:
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
) -> Prepared:
    require_columns(units, ["unit_id", "students", "low_income", "geometry"], "units")
    require_columns(schools, ["school_id", "capacity", "geometry"], "schools")
    units = to_local(units, "units").reset_index(drop=True)
    schools = to_local(schools, "schools").to_crs(units.crs).reset_index(drop=True)
    units["unit_id"] = units["unit_id"].astype(str)
    schools["school_id"] = schools["school_id"].astype(str)
    school_ids = schools["school_id"].tolist()
    raw_names = schools["name"] if "name" in schools.columns else pd.Series([None] * len(schools))
    names = [sid if missing(n) else str(n) for sid, n in zip(school_ids, raw_names, strict=True)]
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
        return mapped.map(lambda v: None if missing(v) else str(v))

    new = per_unit(assignment, "assignment")
    old = per_unit(status_quo, "status quo") if status_quo is not None else new
    return Prepared(units, schools, school_ids, names, new, old)


def _unit_features(
    d: Prepared, simplified: gpd.GeoSeries, suppress_below: int = 0
) -> tuple[list[dict], list[str], list[dict]]:
    """Encoded unit features (properties: id, students, share, schools, class), class colours
    and the choropleth legend."""
    index_of = d.index_of
    students = d.units["students"].to_numpy(dtype=float)
    low = d.units["low_income"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(students > 0, low / np.where(students > 0, students, 1), np.nan)
    shown, hidden = suppress.unit_display(students, low, suppress_below)
    shares[np.asarray(hidden, dtype=bool)] = np.nan  # not embedded, not even as a colour class
    cls, class_colors, legend = share_classes(shares)
    if suppress_below and legend and legend[-1]["label"] == "no students":
        legend[-1]["label"] = f"no students, or fewer than {suppress_below} (hidden)"
    has_cv = "low_income_share_cv" in d.units.columns
    props = []
    for i in range(len(d.units)):
        p: dict[str, Any] = {
            "u": d.units.at[i, "unit_id"],
            "s": shown[i],
            "p": suppress.HIDDEN if hidden[i] and students[i] > 0 else (
                None if np.isnan(shares[i]) else round(float(shares[i]), 4)),
            "n": -1 if d.new.iat[i] is None else index_of[d.new.iat[i]],
            "o": -1 if d.old.iat[i] is None else index_of[d.old.iat[i]],
            "k": int(cls[i]),
        }
        if has_cv:
            cv = d.units.at[i, "low_income_share_cv"]
            p["cv"] = None if missing(cv) else round(float(cv), 3)
        props.append(p)
    return feature_collection(simplified.to_crs(4326), props), class_colors, legend


def _zone_labels(d: Prepared, zones: dict[str, Any]) -> list[dict]:
    """Each zone's label: its school's name at the zone's visual centre, and the zone's bounds.

    The centre is the pole of inaccessibility of the zone's largest piece (the point farthest
    inside it), so a label sits well inside even a crescent-shaped zone.
    """
    out = []
    crs = d.units.crs
    for sid, geom in zones.items():
        parts = [p for p in shapely.get_parts(geom) if not p.is_empty]
        if not parts:
            continue
        main = max(parts, key=lambda p: p.area)
        centre = polylabel(main, tolerance=max(1.0, math.sqrt(main.area) / 100))
        wgs = gpd.GeoSeries([centre, geom], crs=crs).to_crs(4326)
        minx, miny, maxx, maxy = wgs.iloc[1].bounds
        out.append({
            "name": d.names[d.index_of[sid]],
            "lat": round(float(wgs.iloc[0].y), 6),
            "lon": round(float(wgs.iloc[0].x), 6),
            "bounds": [round(miny, 6), round(minx, 6), round(maxy, 6), round(maxx, 6)],
        })
    return out


def _zone_features(d: Prepared, zones: dict[str, Any]) -> list[dict]:
    index_of = d.index_of
    geoms = gpd.GeoSeries(list(zones.values()), crs=d.units.crs).to_crs(4326)
    return feature_collection(geoms, [{"n": index_of[s]} for s in zones])


def _build_map(
    units: gpd.GeoDataFrame,
    schools: gpd.GeoDataFrame,
    assignment: pd.Series,
    status_quo: pd.Series | None,
    schools_table: pd.DataFrame | None,
    *,
    basemap: bool,
    title: str,
    suppress_below: int = 0,
    with_share: bool = True,
) -> folium.Map:
    with_plan = status_quo is not None
    d = _prepare(units, schools, assignment, status_quo)
    # Without low-income counts (a capacity redraw from files that have none) the share layer
    # would only say "0%": leave it out.
    with_share = with_share and bool((d.units["low_income"].to_numpy(dtype=float) > 0).any())
    simplified = simplify_coverage(d.units.geometry)
    zones_new = dissolve(simplified, d.new, d.school_ids)
    zones_old = dissolve(simplified, d.old, d.school_ids) if with_plan else {}
    colors = zone_colors(d.school_ids, [zones_new, zones_old] if with_plan else [zones_new])
    unit_features, class_colors, legend_classes = _unit_features(d, simplified, suppress_below)
    markers = school_markers(d, colors, schools_table if with_plan else None, suppress_below,
                             with_share)

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
        with_share,
    ).add_to(m)
    colors_js = js_json([colors[s] for s in d.school_ids])
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
    if with_share:
        _UnitsLayer(
            _LAYER_SHARE,
            pane="zoneoptShare",
            style_js=(
                "{color: '#ffffff', weight: 0.5, fillOpacity: 0.8, fillColor: p.k < 0 ? "
                f"'{NO_STUDENTS_COLOR}' : {js_json(class_colors)}[p.k]}}"
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
    _ZoneLabels(_LAYER_LABELS, _zone_labels(d, zones_new), pane="zoneoptLabels").add_to(m)
    _SchoolsLayer(_LAYER_SCHOOLS).add_to(m)
    area = shapely.union_all(simplified.to_crs(4326).values)
    _Legend(
        classes=legend_classes,
        zones_title="Proposed zones" if with_plan else "Zones",
        choropleth_name=_LAYER_SHARE if with_share else "",
        choropleth_shown=False,
        title=title,
        # Past the palette's size colours repeat, so a colour-to-name list would mislead.
        list_zones=len(d.school_ids) <= len(ZONE_PALETTE),
        with_plan=with_plan,
        position=legend_corner(area, (minx, miny, maxx, maxy)),
    ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    _FitBounds([[miny, minx], [maxy, maxx]]).add_to(m)
    return m
