"""The second level in the report and on the map: middle schools, feeder patterns, neighbourhoods.

:func:`feeders_section` renders the report's section (template ``feeders.html``);
:func:`add_middle_zones_layer` adds the middle zones to a plan's folium map.
"""

from __future__ import annotations

import math
from typing import Any

import markupsafe
import numpy as np


def _pct(x: Any) -> str:
    if isinstance(x, str):  # withheld by small-count suppression (zoneopt.desk.suppress)
        return x
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.1f}%"


def _below(plan: Any) -> int:
    scenario = getattr(plan, "scenario", None)
    return scenario.report.suppress_below if scenario is not None else 0


def _pattern(rows, label: str, below: int = 0) -> dict[str, str]:
    from ..desk.suppress import count_text

    out: dict[str, list[str]] = {}
    for r in rows[rows["plan"] == label].itertuples():
        if r.students > 0:
            out.setdefault(str(r.school_id), []).append(
                f"{r.middle_school_id} ({count_text(r.students, below)})")
    return {k: ", ".join(v) for k, v in out.items()}


def _count(x: Any, below: int) -> str:
    from ..desk.suppress import count_text

    return count_text(x, below)


def _uses_second_level(plan: Any) -> bool:
    """A real plan (not a plan-like object of a caller) with an assignment and a scenario."""
    return getattr(plan, "positions", None) is not None and getattr(plan, "scenario", None) is not None


def feeders_section(plan: Any) -> markupsafe.Markup:
    """The report's section on middle schools, feeders and neighbourhoods (empty when unused)."""
    from ._templates import env

    if not _uses_second_level(plan):
        return markupsafe.Markup("")
    s, sc = plan.summary, plan.scenario
    feeders = hoods = None
    if sc.feeders.mode != "none":
        from ..feeders import feeders_table, middle_schools_table, middle_zones, plan_feeds

        feeds = plan_feeds(plan)
        from ..desk.suppress import count_text, mask_schools_table

        below = _below(plan)
        table = mask_schools_table(middle_schools_table(plan.district, sc, plan.positions, feeds),
                                   below)
        zones = middle_zones(plan.district, sc, plan.positions, feeds).set_index("school_id")
        pattern = feeders_table(plan.district, sc, plan.positions, feeds)
        today, proposed = _pattern(pattern, "today", below), _pattern(pattern, "proposed", below)
        nested = sc.feeders.mode == "nested"
        feeders = {
            "lede": (
                f"{'The middle zones were chosen with the elementary zones: each elementary zone feeds one middle school. ' if nested else 'The middle zones stay as they are today. '}"
                f"Split feeders (elementary schools whose students go to more than one middle "
                f"school): {s.get('split_feeders_before')} today, {s.get('split_feeders_after')} "
                f"proposed. Middle schools' dissimilarity index: "
                f"{s.get('middle_dissimilarity_before', 0):.3f} today, "
                f"{s.get('middle_dissimilarity_after', 0):.3f} proposed."
            ),
            "middle": [
                {"name": r.name, "capacity": int(r.capacity),
                 "enr_b": count_text(r.enrollment_before, below) if not isinstance(
                     r.enrollment_before, str) else r.enrollment_before,
                 "enr_a": count_text(r.enrollment_after, below) if not isinstance(
                     r.enrollment_after, str) else r.enrollment_after,
                 "util_a": _pct(r.utilization_after),
                 "share_b": _pct(r.low_income_share_before), "share_a": _pct(r.low_income_share_after),
                 "fed_by": zones["feeders"].get(r.school_id, "")}
                for r in table.itertuples()
            ],
            "pattern": [{"school": str(j), "today": today.get(str(j), "–"),
                         "proposed": proposed.get(str(j), "–")} for j in plan.district.school_ids],
        }
    if sc.constraints.neighbourhoods:
        from ..neighbourhoods import neighbourhood_table

        t = neighbourhood_table(plan.district, sc, plan.positions)
        hoods = {
            "lede": (f"{len(t)} neighbourhoods; split between schools: "
                     f"{s.get('split_neighbourhoods_before')} today, "
                     f"{s.get('split_neighbourhoods_after')} proposed"
                     + (" (kept whole by the rules)." if sc.constraints.keep_neighbourhoods else ".")),
            "split": [{"name": r.name, "students": _count(r.students, _below(plan)),
                       "today": r.schools_today,
                       "proposed": r.schools_proposed} for r in t[t["split_proposed"]].itertuples()],
        }
    if feeders is None and hoods is None:
        return markupsafe.Markup("")
    return markupsafe.Markup(env().get_template("feeders.html").render(feeders=feeders, hoods=hoods))


def add_middle_zones_layer(m: Any, plan: Any) -> Any:
    """Add the plan's middle zones (dashed outlines, tooltips) to a folium map, when feeders are used."""
    import folium

    if not _uses_second_level(plan) or plan.scenario.feeders.mode == "none":
        return m
    from ..desk.suppress import HIDDEN, count_text, is_small, share_hidden
    from ..feeders import middle_zones, plan_feeds

    zones = middle_zones(plan.district, plan.scenario, plan.positions, plan_feeds(plan))
    below = _below(plan)
    enr = zones["enrollment"].astype(np.int64)
    low = zones["low_income"] if "low_income" in zones.columns else [None] * len(zones)
    zones = zones.assign(
        geometry=zones.geometry.simplify(0.0002),
        utilization=[HIDDEN if is_small(e, below) else _pct(u)
                     for e, u in zip(enr, zones["utilization"], strict=True)],
        low_income_share=[HIDDEN if share_hidden(lo, e, below) else _pct(u)
                          for lo, e, u in zip(low, enr, zones["low_income_share"], strict=True)],
        enrollment=[count_text(e, below) if below else int(e) for e in enr],
        capacity=zones["capacity"].astype(np.int64),
    )
    folium.GeoJson(
        zones.__geo_interface__, name="Middle-school zones (proposed)",
        style_function=lambda f: {"color": "#222222", "weight": 3, "dashArray": "8 6",
                                  "fill": False},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "enrollment", "capacity", "utilization", "low_income_share", "feeders"],
            aliases=["Middle school", "Enrollment", "Capacity", "Utilization", "Low-income",
                     "Fed by"]),
    ).add_to(m)
    return m
