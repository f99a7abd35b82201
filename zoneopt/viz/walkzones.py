"""Map layers of the travel rules: walk zones (units that keep their school) and barriers.

Added to the plan map by :func:`add_travel_layers`, one call from the map assembly; nothing is added
for a plan that uses neither rule, so such maps are unchanged.
"""

from __future__ import annotations

import html
from typing import Any

import folium
import numpy as np

LAYER_WALK = "Walk zones (keep their school)"
LAYER_BARRIERS = "Barriers (freeways, rail, rivers)"
WALK_COLOR = "#1a7f37"
BARRIER_COLOR = "#b3261e"


def add_travel_layers(m: folium.Map, plan: Any) -> folium.Map:
    """Add the walk-zone and barrier layers of ``plan`` to its map (when the plan uses them).

    Parameters
    ----------
    m
        The plan's folium map.
    plan
        A :class:`zoneopt.plan.Plan`.

    Returns
    -------
    folium.Map
        ``m`` itself.
    """
    # The layer control must come after the layers it lists (its script names their variables):
    # what the map assembly added from the control on is taken off and put back after ours.
    keys = list(m._children)
    at = next((k for k, c in enumerate(m._children.values())
               if isinstance(c, folium.LayerControl)), len(keys))
    tail = [(key, m._children.pop(key)) for key in keys[at:]]
    try:
        _add_layers(m, plan)
    finally:
        for key, child in tail:
            m._children[key] = child
    return m


def _add_layers(m: folium.Map, plan: Any) -> None:
    from ..travel.walkzones import walk_zone_mask

    district, scenario = plan.district, getattr(plan, "scenario", None)
    used = scenario is not None and scenario.constraints.walk_zone_km > 0
    mask = walk_zone_mask(district, scenario) if used else None
    if mask is not None and mask.any():
        km = scenario.constraints.walk_zone_km
        how = ("by road" if district.distance_source_name != "straight_line"
               else "in a straight line")
        units = district.units.loc[mask, ["geometry"]].copy()
        sq = district.status_quo[mask]
        units["school_id"] = district.school_ids[sq]
        zones = units.dissolve(by="school_id", sort=True).reset_index()
        names = dict(zip(district.school_ids, district.schools["name"].astype(str), strict=True))
        counts = dict(zip(*np.unique(units["school_id"].to_numpy(dtype=str), return_counts=True),
                          strict=True))
        zones["label"] = [
            html.escape(f"Walk zone of {names.get(s) or s}: {counts[s]} unit(s) within {km:g} km "
                        f"{how} keep this school")
            for s in zones["school_id"]]
        zones["geometry"] = zones.geometry.simplify(1.0)
        folium.GeoJson(
            zones[["label", "geometry"]].to_crs(4326).to_json(drop_id=True),
            name=LAYER_WALK,
            style_function=lambda _f: {"color": WALK_COLOR, "weight": 3, "fillColor": WALK_COLOR,
                                       "fillOpacity": 0.35, "dashArray": "6 3"},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            show=True,
        ).add_to(m)
    lines = getattr(district, "barriers", None)
    if lines is not None and len(lines):
        frame = lines[["geometry"]].copy()
        frame["label"] = [html.escape(str(k)) for k in
                          (lines["kind"] if "kind" in lines else ["barrier"] * len(lines))]
        folium.GeoJson(
            frame.to_crs(4326).to_json(drop_id=True),
            name=LAYER_BARRIERS,
            style_function=lambda _f: {"color": BARRIER_COLOR, "weight": 3, "opacity": 0.8},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            show=True,
        ).add_to(m)


def travel_sentences(travel: dict[str, Any], constraints: dict[str, Any],
                     distance_source: str | None = None) -> list[str]:
    """The report's sentences on distances, walk zones and barriers.

    Parameters
    ----------
    travel, constraints
        The ``travel`` and ``constraints`` sections of summary.json's scenario.
    distance_source
        summary.json's ``distance_source``; None: the scenario's ``matrix`` decides.
    """
    matrix = str(travel.get("matrix") or "")
    source = distance_source if distance_source else (
        matrix.replace("\\", "/").rsplit("/", 1)[-1] if matrix else "straight_line")
    road = source != "straight_line"
    out = [f"Distances are road distances along the street network, from the travel matrix "
           f"{source}." if road else
           "Distances are straight-line distances from each area's centre to the school."]
    km = constraints.get("walk_zone_km") or 0
    try:
        km = float(km)
    except (TypeError, ValueError):
        km = 0.0
    if km > 0:
        out.append(f"Walk zones: every area within {km:g} km of its current school"
                   f"{' by road' if road else ''} keeps that school.")
    barriers = str(travel.get("barriers") or "")
    if barriers:
        name = barriers.replace("\\", "/").rsplit("/", 1)[-1]
        out.append(f"No zone is joined across the freeways, railways and rivers of {name}: two areas "
                   "whose shared edge runs along one of them for most of its length do not count "
                   "as neighbours.")
    return out
