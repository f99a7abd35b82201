"""The board-meeting report (``report.html``) and the notebook summary of a plan.

The report is one self-contained HTML file: the district summary in plain words, the interactive
map (``map.html`` embedded in an ``iframe srcdoc``, so it needs no separate file and no network),
the per-school table and an inline SVG chart of each school's low-income share. Every string that
comes from input files goes through Jinja's autoescaping. Output is deterministic: no dates, no
random ids.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import markupsafe
import numpy as np
import pandas as pd

from zoneopt.desk import suppress
from zoneopt.viz import _templates
from zoneopt.viz.maps import map_html
from zoneopt.viz.tiers import ses_section_html, tier_sentences
from zoneopt.viz.wording import (
    D_MEANING,
    Question,
    capacity_figures,
    fullest_school,
    goal_sentences,
    objective_name,
    question,
    unit_name,
)
from zoneopt.viz.years import years_section_html

__all__ = [
    "report_html",
    "summary_html",
    "describe_scenario",
    "share_chart_svg",
    "utilization_chart_svg",
]

DEFAULT_TITLE = "Proposed attendance zones"

# The per-school table: (schools.csv column, kind of figure, is it the "after" value).
# ``seats_short_*`` are derived (enrollment beyond capacity x max_utilization).
_SCHOOL_COLUMNS = (
    ("capacity", "int", False),
    ("enrollment_before", "int", False),
    ("enrollment_after", "int", True),
    ("utilization_before", "pct0", False),
    ("utilization_after", "pct0", True),
    ("seats_short_before", "int", False),
    ("seats_short_after", "int", True),
    ("low_income_share_before", "pct1", False),
    ("low_income_share_after", "pct1", True),
    ("mean_distance_km_before", "km", False),
    ("mean_distance_km_after", "km", True),
    ("students_gained", "int", False),
    ("students_lost", "int", False),
)
# Header groups of the per-school table: (label, first column's prefix), Today/Proposed pairs.
_GROUPS = (
    ("Enrollment", "enrollment"),
    ("Utilization", "utilization"),
    ("Seats short", "seats_short"),
    ("Low-income share", "low_income_share"),
    ("Mean distance", "mean_distance_km"),
)

# Defaults of CONTRACT.md, used where a summary's scenario leaves a key out.
_SCENARIO_DEFAULTS: dict[str, dict[str, Any]] = {
    "objective": {"balance": "dissimilarity", "distance_weight": 0.0, "moved_weight": 0.0},
    "constraints": {
        "max_utilization": 1.0,
        "min_utilization": 0.0,
        "max_distance_km": math.inf,
        "max_extra_distance_km": math.inf,
        "contiguity": True,
        "max_moved_share": 1.0,
        "low_income_band": math.inf,
    },
    "travel": {"matrix": ""},
    "solver": {"name": "highs", "time_limit_s": 300, "mip_gap": 0.01},
    "report": {"unit_name": ""},
    "columns": {"unit_id": "unit_id"},
}

_SOLVER_NAMES = {"highs": "HiGHS", "cbc": "CBC", "gurobi": "Gurobi", "cplex": "CPLEX"}


_env = _templates.env
_template_text = _templates.template_text


# --------------------------------------------------------------------------------------------
# Number formatting (round for display only; the raw values stay in data-value attributes)


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _fmt(x: Any, kind: str) -> str:
    if isinstance(x, str):  # already suppressed ("<N" or "hidden", zoneopt.desk.suppress)
        return x
    v = _num(x)
    if v is None:
        return "–"
    if math.isinf(v):
        return "no limit"
    if kind == "int":
        return f"{round(v):,}"
    if kind == "pct0":
        return f"{100 * v:.0f}%"
    if kind == "pct1":
        return f"{100 * v:.1f}%"
    if kind == "pp":
        return f"{100 * v:.1f} points"
    if kind == "km":
        return f"{v:.2f} km"
    if kind == "index":
        # An index from 0 to 1, never a percentage (which reads as a share of students).
        return f"{v:.3f}"
    raise ValueError(kind)


def _raw(x: Any) -> str:
    """The unrounded value for a data-value attribute (repr keeps every digit)."""
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x)).lower()
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    v = _num(x)
    return "" if v is None else repr(v)


# --------------------------------------------------------------------------------------------
# Plain-language scenario


def _scenario(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    given = summary.get("scenario") or {}
    out = {}
    for section, defaults in _SCENARIO_DEFAULTS.items():
        merged = dict(defaults)
        merged.update(given.get(section) or {})
        out[section] = merged
    return out


def describe_scenario(
    scenario: Mapping[str, Any], district_share: float | None = None,
    distance_source: str | None = None,
) -> list[str]:
    """The scenario's rules as sentences a school board reads.

    Parameters
    ----------
    scenario
        The ``scenario`` dict of summary.json (sections objective, constraints, travel, solver);
        missing keys take CONTRACT.md's defaults, infinite limits read "no limit".
    district_share
        The district's low-income share, to state the band in absolute terms.
    distance_source
        summary.json's ``distance_source`` (``straight_line`` or the travel matrix's file name),
        when known; else the scenario's ``[travel] matrix`` decides.

    Returns
    -------
    list of str
        One sentence per rule, in the order objective, constraints, travel.
    """
    s = _scenario({"scenario": scenario})
    con, travel = s["constraints"], s["travel"]
    q = question(s)
    out = goal_sentences(q)
    hi, lo = _num(con.get("max_utilization")), _num(con.get("min_utilization"))
    if hi is None or math.isinf(hi):
        out.append("Schools may be filled beyond capacity (no limit).")
    else:
        out.append(f"No school is filled beyond {_fmt(hi, 'pct0')} of its capacity.")
    if lo:
        out.append(f"Every school is filled to at least {_fmt(lo, 'pct0')} of its capacity.")
    md = _num(con.get("max_distance_km"))
    out.append(
        "Distance from home to school: no limit."
        if md is None or math.isinf(md)
        else f"No student is assigned to a school more than {md:g} km from home."
    )
    mx = _num(con.get("max_extra_distance_km"))
    out.append(
        "Extra distance beyond the nearest school: no limit."
        if mx is None or math.isinf(mx)
        else f"No student is assigned to a school more than {mx:g} km farther than their "
        "nearest school."
    )
    if con.get("contiguity", True):
        out.append("Each zone is one connected area that contains its school.")
    else:
        out.append("Zones may be split into several separate areas.")
    ms = _num(con.get("max_moved_share"))
    out.append(
        "Share of students who change school: no limit."
        if ms is None or ms >= 1 or math.isinf(ms)
        else f"At most {_fmt(ms, 'pct0')} of students change school."
    )
    band = _num(con.get("low_income_band"))
    if band is None or math.isinf(band):
        # A capacity redraw makes no claim about low-income students, not even "no band".
        if q.balances_income:
            out.append(
                "Each school's low-income share: no fixed band around the district's share.")
    elif district_share is not None and _num(district_share) is not None:
        lo_b, hi_b = max(0.0, district_share - band), min(1.0, district_share + band)
        out.append(
            f"Each school's low-income share stays within {100 * band:.1f} points of the "
            f"district's {_fmt(district_share, 'pct1')}, i.e. between {_fmt(lo_b, 'pct1')} and "
            f"{_fmt(hi_b, 'pct1')}."
        )
    else:
        out.append(
            f"Each school's low-income share stays within {100 * band:.1f} points of the "
            "district's."
        )
    from .walkzones import travel_sentences

    out.extend(travel_sentences(travel, con, distance_source))
    return tier_sentences(out, s["objective"], con)


def _lede(plan: Any, summary: Mapping[str, Any], scenario: dict) -> str:
    n_schools = summary.get("n_schools") or len(plan.schools_table)
    n_units = summary.get("n_units") or len(plan.district.units)
    q = question(scenario)
    if q.balances_income:
        aims = ["balance each school's share of low-income students"]
    elif q.balance == "tiers":
        aims = ["balance each school's mix of socioeconomic tiers"]
    else:
        aims = ["fit every school's enrollment to its capacity rules"]
    if q.distance_weight > 0:
        aims.append("keep trips short")
    if q.moved_weight > 0:
        aims.append("keep students at their school")
    return (
        f"A proposal for the attendance zones of {n_schools} schools, drawn from {n_units} "
        f"{unit_name(plan, scenario)}, to {' and '.join(aims)}."
    )


def _clock_text(clock_ended: Any) -> str:
    """Which work the time limit cut short (summary.json's ``clock_ended``)."""
    from ..solve.state import plan_may_differ

    if plan_may_differ(clock_ended):
        return "the time limit ended the search"
    return ("the search spent its work budget (the same plan on any machine), the time limit "
            "ended the " + " and the ".join(sorted(set(clock_ended))))


def _status_text(summary: Mapping[str, Any], scenario: dict) -> str:
    status = str(summary.get("status", "unknown"))
    gap = _num(summary.get("gap"))
    gap_txt = "not proven" if gap is None or math.isinf(gap) else f"{100 * gap:.2f}%"
    if status == "optimal":
        target = _num(scenario["solver"].get("mip_gap"))
        within = f" (target {100 * target:g}%)" if target is not None else ""
        return f"Optimal: proven within {gap_txt} of the best possible plan{within}"
    if status == "feasible":
        why = {"work_budget": "the search spent its work budget", "proof": "the proof ended",
               "interrupted": "the search was interrupted"}.get(
            str(summary.get("stopped_by")), _clock_text(summary.get("clock_ended")))
        return f"Feasible: meets every rule; {why} with a proven gap of {gap_txt}"
    if status == "given":
        broken = list(summary.get("violations") or [])
        if not broken:
            return "Given plan (scored, not searched): meets every rule"
        return (f"Given plan (scored, not searched): breaks {len(broken)} rule(s): "
                + "; ".join(broken))
    if status == "infeasible":
        return "Infeasible: no plan meets every rule (see below)"
    if status == "no_solution":
        return "No plan found within the time limit"
    return status


# --------------------------------------------------------------------------------------------
# Chart


def share_chart_svg(
    table: pd.DataFrame, district_share: float | None, band: float | None = None
) -> markupsafe.Markup:
    """Inline SVG: each school's low-income share today and proposed, with the district's.

    Parameters
    ----------
    table
        schools.csv rows (``school_id``, ``name``, ``low_income_share_before``/``_after``).
    district_share
        The district's low-income share (a dashed line).
    band
        Half-width of the allowed band around the district share (shaded), or None/inf.

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element. Today is a hollow circle, proposed a filled square, so the chart
        reads without colour.
    """
    band_v = _num(band)
    if band_v is not None and math.isinf(band_v):
        band_v = None
    ds = _num(district_share)
    lo_hi = None
    if band_v is not None and ds is not None:
        lo_hi = (max(0.0, ds - band_v), min(1.0, ds + band_v), f"±{100 * band_v:.1f} points")
    return _dot_chart(
        table, "low_income_share", ds, lo_hi,
        chart_id="share-chart",
        title="Low-income share of each school, today and proposed, against the district share",
        axis_label="Low-income share of the school's students",
        reference_label=f"District {_fmt(ds, 'pct1')}",
        reference_legend="District share",
        desc_tail=f"District share {_fmt(ds, 'pct1')}.",
        x_cap=1.0,
    )


def utilization_chart_svg(
    table: pd.DataFrame, min_utilization: float = 0.0, max_utilization: float = 1.0
) -> markupsafe.Markup:
    """Inline SVG: each school's utilization today and proposed, against its capacity.

    Parameters
    ----------
    table
        schools.csv rows (``school_id``, ``name``, ``utilization_before``/``_after``).
    min_utilization, max_utilization
        The scenario's rules, shaded as the allowed range.

    Returns
    -------
    markupsafe.Markup
        The ``<svg>`` element (``id="utilization-chart"``), drawn as :func:`share_chart_svg`.
    """
    hi = _num(max_utilization)
    lo = _num(min_utilization) or 0.0
    top = None if hi is None or math.isinf(hi) else hi
    lo_hi = None
    if lo > 0 or top is not None:
        label = (f"{_fmt(lo, 'pct0')} to {_fmt(top, 'pct0')}" if top is not None
                 else f"at least {_fmt(lo, 'pct0')}")
        lo_hi = (lo, top if top is not None else math.nan, label)
    return _dot_chart(
        table, "utilization", 1.0, lo_hi,
        chart_id="utilization-chart",
        title="Utilization of each school (enrollment / capacity), today and proposed",
        axis_label="Enrollment as a share of the school's capacity",
        reference_label="Capacity (100%)",
        reference_legend="Capacity",
        desc_tail="The dashed line is each school's capacity.",
        x_cap=None,
    )


def _dot_chart(
    table: pd.DataFrame,
    prefix: str,
    reference: float | None,
    band: tuple[float, float, str] | None,
    *,
    chart_id: str,
    title: str,
    axis_label: str,
    reference_label: str,
    reference_legend: str,
    desc_tail: str,
    x_cap: float | None,
) -> markupsafe.Markup:
    """One row per school: today (circle) and proposed (square) of ``<prefix>_before/_after``."""
    left, right, top, row_h = 230, 150, 34, 32
    plot_w = 980 - left - right
    n = len(table)
    plot_h = max(row_h * n, row_h)
    values = [_num(v) for col in (f"{prefix}_before", f"{prefix}_after") for v in table[col]]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    finite += [reference] if reference is not None else []
    if band is not None and math.isfinite(band[1]):
        finite += [band[1]]
    hi = max(finite) if finite else 1.0
    # Axis to the next 10% above the largest value, so labels are round numbers.
    x_max = max(0.1, math.ceil(hi * 10 + 1e-9) / 10)
    if x_cap is not None:
        x_max = min(x_cap, x_max)

    def x(v: float) -> float:
        return round(left + plot_w * min(v, x_max) / x_max, 2)

    step = 0.1 if x_max > 0.3 else 0.05
    if x_max > 1.2:
        step = 0.2
    ticks = [
        {"x": x(t), "label": f"{100 * t:.0f}%"}
        for t in np.arange(0, x_max + 1e-9, step).round(4).tolist()
    ]
    rows = []
    for k, (_, r) in enumerate(table.iterrows()):
        b, a = _num(r[f"{prefix}_before"]), _num(r[f"{prefix}_after"])
        rows.append(
            {
                "school_id": str(r["school_id"]),
                "name": str(r["name"]) if not pd.isna(r["name"]) else str(r["school_id"]),
                "y": top + row_h * k + row_h / 2,
                "before_x": None if b is None else x(b),
                "after_x": None if a is None else x(a),
                "figures": f"{_fmt(b, 'pct0')} → {_fmt(a, 'pct0')}",
                "desc": f"{_fmt(b, 'pct1')} today, {_fmt(a, 'pct1')} proposed",
            }
        )
    district = {"x": x(reference) if reference is not None else left, "label": reference_label}
    band_ctx = None
    if band is not None:
        lo_b, hi_b = band[0], band[1] if math.isfinite(band[1]) else x_max
        band_ctx = {"x": x(lo_b), "w": round(x(hi_b) - x(lo_b), 2), "label": band[2]}
    desc = "; ".join(f"{r['name']}: {r['desc']}" for r in rows) + f". {desc_tail}"
    height = top + plot_h + 78
    svg = (
        _env()
        .get_template("share_chart.svg")
        .render(
            chart_id=chart_id,
            chart_title=title,
            axis_label=axis_label,
            reference_legend=reference_legend,
            width=980,
            height=height,
            left=left,
            top=top,
            plot_w=plot_w,
            plot_h=plot_h,
            ticks=ticks,
            rows=rows,
            district=district,
            band=band_ctx,
            legend_y=top + plot_h + 62,
            desc=desc,
        )
    )
    return markupsafe.Markup(svg)


# --------------------------------------------------------------------------------------------
# Tables


def _with_seats_short(table: pd.DataFrame, q: Question) -> pd.DataFrame:
    out = table.copy()
    for when in ("before", "after"):
        if f"enrollment_{when}" in out.columns:
            out[f"seats_short_{when}"] = capacity_figures(out, when, q.max_utilization)[
                "per_school"]
    return out


def _columns(q: Question) -> list[tuple[str, str, bool]]:
    """The per-school table's columns for the question: the low-income share only where the
    objective balances it (no claim about low-income students otherwise)."""
    return [c for c in _SCHOOL_COLUMNS
            if q.balances_income or not c[0].startswith("low_income_share")]


def _school_rows(table: pd.DataFrame, columns: list[tuple[str, str, bool]]) -> list[dict]:
    rows = []
    for _, r in table.iterrows():
        cells = [
            {"column": col, "raw": _raw(r[col]), "text": _fmt(r[col], kind), "after": after}
            for col, kind, after in columns
        ]
        name = r["name"] if "name" in r.index and not pd.isna(r["name"]) else r["school_id"]
        rows.append({"school_id": str(r["school_id"]), "name": str(name), "cells": cells})
    return rows


def _total_cells(
    table: pd.DataFrame, summary: Mapping[str, Any], columns: list[tuple[str, str, bool]],
    below: int = 0,
) -> list[dict]:
    def col(c: str) -> float:
        return float(pd.to_numeric(table[c], errors="coerce").fillna(0).sum())

    cap = col("capacity")
    eb, ea = col("enrollment_before"), col("enrollment_after")
    lb = col("low_income_before") if "low_income_before" in table else None
    la = col("low_income_after") if "low_income_after" in table else None
    values = {
        "capacity": cap,
        "enrollment_before": eb,
        "enrollment_after": ea,
        "utilization_before": eb / cap if cap else None,
        "utilization_after": ea / cap if cap else None,
        "seats_short_before": col("seats_short_before"),
        "seats_short_after": col("seats_short_after"),
        "low_income_share_before": lb / eb if lb is not None and eb else None,
        "low_income_share_after": la / ea if la is not None and ea else None,
        "mean_distance_km_before": summary.get("mean_distance_km_before"),
        "mean_distance_km_after": summary.get("mean_distance_km_after"),
        "students_gained": col("students_gained"),
        "students_lost": col("students_lost"),
    }
    counts = {"enrollment_before", "enrollment_after", "students_gained", "students_lost",
              "seats_short_before", "seats_short_after"}  # counts of students: suppressed
    return [
        {"text": suppress.count_text(values[c], below)
         if c in counts and suppress.is_small(values[c], below) else _fmt(values[c], kind),
         "after": after}
        for c, kind, after in columns
    ]


def _fullest(table: pd.DataFrame, when: str) -> str:
    got = fullest_school(table, when) if len(table) else None
    return "–" if got is None else f"{_fmt(got[1], 'pct0')} ({got[0]})"


def _summary_rows(
    summary: Mapping[str, Any], table: pd.DataFrame | None = None, q: Question | None = None,
    below: int = 0,
) -> list[dict]:
    q = q or question(_scenario(summary))
    moved = summary.get("students_moved")
    moved_share = summary.get("moved_share")
    moved_txt = _fmt(moved, "int")
    if suppress.is_small(moved, below):
        moved_txt, moved_share = suppress.count_text(moved, below), None
    if _num(moved_share) is not None:
        moved_txt += f" ({_fmt(moved_share, 'pct1')})"
    has_after = table is not None and summary.get("max_utilization_after") is not None
    rows = []
    if q.balances_income:
        rows += [
            {
                "key": "dissimilarity",
                "label": f"Dissimilarity index of low-income and other students ({D_MEANING})",
                "before": _fmt(summary.get("dissimilarity_before"), "index"),
                "after": _fmt(summary.get("dissimilarity_after"), "index"),
            },
            {
                "key": "max_share_gap",
                "label": "Largest gap between a school's low-income share and the district's",
                "before": _fmt(summary.get("max_share_gap_before"), "pp"),
                "after": _fmt(summary.get("max_share_gap_after"), "pp"),
            },
        ]
    if q.balance == "tiers":
        rows.append({
            "key": "tier_dissimilarity",
            "label": f"Dissimilarity index of the SES tiers ({D_MEANING})",
            "before": _fmt(summary.get("tier_dissimilarity_before"), "index"),
            "after": _fmt(summary.get("tier_dissimilarity_after"), "index"),
        })
    if table is not None and len(table):
        before = capacity_figures(table, "before", q.max_utilization)
        after = capacity_figures(table, "after", q.max_utilization) if has_after else None
        rows += [
            {
                "key": "seats_short",
                "label": "Seats short (students beyond the schools' capacity limits)",
                "before": _fmt(before["seats_short"], "int"),
                "after": "–" if after is None else _fmt(after["seats_short"], "int"),
            },
            {
                "key": "overcrowded",
                "label": "Overcrowded schools (beyond their capacity limit)",
                "before": f"{before['overcrowded']} of {len(table)}",
                "after": "–" if after is None else f"{after['overcrowded']} of {len(table)}",
            },
        ]
    rows += [
        {
            "key": "mean_distance_km",
            "label": "Average distance from home to school",
            "before": _fmt(summary.get("mean_distance_km_before"), "km"),
            "after": _fmt(summary.get("mean_distance_km_after"), "km"),
        },
        {
            "key": "students_moved",
            "label": "Students who change school",
            "before": "–",
            "after": moved_txt,
        },
        {
            "key": "max_utilization",
            "label": "Fullest school (enrollment / capacity)",
            "before": _fullest(table, "before") if table is not None else "–",
            "after": (_fullest(table, "after") if has_after
                      else _fmt(summary.get("max_utilization_after"), "pct0")),
        },
    ]
    return rows


def _solver_rows(summary: Mapping[str, Any], scenario: dict) -> list[tuple[str, str]]:
    solver = str(summary.get("solver") or scenario["solver"].get("name") or "")
    secs = _num(summary.get("solve_seconds"))
    rows = [
        ("Result", _status_text(summary, scenario)),
        ("What the search minimised", objective_name(question(scenario))),
    ]
    value, bound = _num(summary.get("objective")), _num(summary.get("bound"))
    if value is not None:
        text = f"{value:.4f}"
        if bound is not None and math.isfinite(bound):
            text += f" (proven lower bound of this objective: {bound:.4f}"
            # The gap is relative: a plan near perfect balance over a bound of 0 reads "100%",
            # yet is at most its own small value from the best plan. Say that distance too.
            if summary.get("status") == "feasible" and value >= bound:
                text += f"; so at most {value - bound:.4f} above the best possible plan's"
            text += ")"
        rows.append(("Its value for this plan", text))
    rows.append(("Solver", _SOLVER_NAMES.get(solver.lower(), solver) or "–"))
    if secs is not None:
        rows.append(("Time to solve", f"{secs:.1f} s"))
    contiguous = summary.get("contiguous")
    if contiguous is not None:
        rows.append(("Every zone in one piece", "yes" if contiguous else "no"))
    islands = summary.get("islands")
    # summary.json gives a count; a list of unit ids is shown as such.
    if isinstance(islands, (list, tuple)) and islands:
        text = f"{len(islands):,}: " + ", ".join(str(i) for i in islands)
    elif _num(islands):
        text = _fmt(islands, "int")
    else:
        text = ""
    if text:
        rows.append(("Areas cut off from every school (exempt from the one-piece rule)", text))
    return rows


def _cards(summary: Mapping[str, Any], table: pd.DataFrame, q: Question,
           below: int = 0) -> list[dict]:
    moved_share = _num(summary.get("moved_share"))
    moved_count = summary.get("students_moved")
    if suppress.is_small(moved_count, below):
        moved_count, moved_share = suppress.count_text(moved_count, below), None
    moved = {
        "label": "Students moved",
        "value": _fmt(moved_count, "int"),
        "note": (
            f"{_fmt(moved_share, 'pct1')} of all students"
            if moved_share is not None
            else "change school"
        ),
    }
    distance = {
        "label": "Average distance",
        "value": f"{_fmt(summary.get('mean_distance_km_before'), 'km')} → "
        f"{_fmt(summary.get('mean_distance_km_after'), 'km')}",
        "note": "home to school, today → proposed",
    }
    has_after = summary.get("max_utilization_after") is not None and len(table)
    before = capacity_figures(table, "before", q.max_utilization) if len(table) else None
    after = capacity_figures(table, "after", q.max_utilization) if has_after else None
    seats = {
        "label": "Seats short",
        "value": f"{_fmt(before and before['seats_short'], 'int')} → "
        f"{_fmt(after and after['seats_short'], 'int')}",
        "note": (
            f"overcrowded schools: {_fmt(before and before['overcrowded'], 'int')} → "
            f"{_fmt(after and after['overcrowded'], 'int')} of {len(table)}; today → proposed"
        ),
    }
    if not q.balances_income:
        fullest = {
            "label": "Fullest school",
            "value": f"{_fullest(table, 'before').split(' (')[0]} → "
            f"{_fullest(table, 'after').split(' (')[0] if has_after else '–'}",
            "note": "enrollment / capacity, today → proposed",
        }
        first = [seats, fullest]
        if q.balance == "tiers":
            first.insert(0, {
                "label": "SES tiers dissimilarity",
                "value": f"{_fmt(summary.get('tier_dissimilarity_before'), 'index')} → "
                f"{_fmt(summary.get('tier_dissimilarity_after'), 'index')}",
                "note": f"multi-group index of the tiers, today → proposed; {D_MEANING}",
            })
        return first + ([moved, distance] if q.moved_weight >= q.distance_weight
                        else [distance, moved])
    cards = [
        {
            "label": "Dissimilarity index",
            "value": f"{_fmt(summary.get('dissimilarity_before'), 'index')} → "
            f"{_fmt(summary.get('dissimilarity_after'), 'index')}",
            "note": f"today → proposed; {D_MEANING}",
        },
        {
            "label": "Largest share gap",
            "value": f"{_fmt(summary.get('max_share_gap_before'), 'pct1').rstrip('%')} → "
            f"{_fmt(summary.get('max_share_gap_after'), 'pct1').rstrip('%')} points",
            "note": "largest difference from the district's low-income share",
        },
        moved,
        distance,
    ]
    if before is not None and (before["seats_short"] or (after and after["seats_short"])):
        cards.append(seats)
    return cards


def _title(plan: Any) -> str:
    title = getattr(plan, "title", "") or ""
    return str(title).strip() or DEFAULT_TITLE


# --------------------------------------------------------------------------------------------
# Public API


def report_html(plan: Any) -> str:
    """The complete, self-contained text of ``report.html`` for a plan.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` (``district``, ``assignment``, ``status_quo``,
        ``schools_table``, ``summary``, ``title``).

    Returns
    -------
    str
        One HTML page: title and scenario in plain words, district summary (dissimilarity, share
        gaps, students moved, distances, capacity use, solver status and proven gap), the
        interactive map, the per-school table and an SVG chart of low-income shares. It prints on
        letter paper with page breaks and reads without colour. Deterministic.
    """
    from zoneopt import __version__

    summary = dict(plan.summary or {})
    scenario = _scenario(summary)
    q = question(scenario)
    below = plan.scenario.report.suppress_below if hasattr(plan, "scenario") else 0
    exact = _with_seats_short(plan.schools_table.reset_index(drop=True), q)
    table = suppress.mask_schools_table(exact, below)
    columns = _columns(q)
    district_share = _num(summary.get("district_share"))
    if district_share is None:
        units = plan.district.units
        total = float(units["students"].sum())
        district_share = float(units["low_income"].sum()) / total if total else None
    band = _num(scenario["constraints"].get("low_income_band"))
    if not q.balances_income:
        chart = utilization_chart_svg(table, q.min_utilization, q.max_utilization)
        chart_title = "Utilization of each school"
        chart_note = ("The dashed line is each school's capacity; the shaded range is what the "
                      "rules allow.")
    else:
        chart = share_chart_svg(table, district_share, band)
        chart_title = "Low-income share of each school"
        chart_note = (
            "The dashed line is the district's low-income share; the shaded band is the range "
            "the rules allow each school."
            if band is not None and not math.isinf(band)
            else "The dashed line is the district's low-income share. Balanced schools sit "
            "close to it."
        )
    diagnosis = summary.get("diagnosis") or []
    if isinstance(diagnosis, str):
        diagnosis = [diagnosis]
    context = {
        "version": __version__,
        "title": _title(plan),
        "lede": _lede(plan, summary, scenario),
        "css": markupsafe.Markup(_template_text("report.css")),
        "cards": _cards(summary, exact, q, below),
        "summary_rows": _summary_rows(summary, exact, q, below),
        "solver_rows": _solver_rows(summary, scenario),
        "diagnosis": [str(d) for d in diagnosis],
        "scenario": describe_scenario(scenario, district_share,
                                      summary.get("distance_source")),
        # A plain str: autoescaping turns it into a valid srcdoc attribute value.
        "map_html": map_html(plan),
        "groups": [g for g in _GROUPS if any(c[0].startswith(g[1]) for c in columns)],
        "school_rows": _school_rows(table, columns),
        "total_cells": _total_cells(exact, summary, columns, below),
        "suppression_note": suppress.suppression_note(below),
        "road_distances": (summary.get("distance_source") or (
            "matrix" if scenario["travel"].get("matrix") else "straight_line")) != "straight_line",
        "chart": chart,
        "chart_title": chart_title,
        "chart_note": chart_note,
        "balances_income": q.balances_income,
        "unit_name": unit_name(plan, scenario),
        "d_meaning": D_MEANING,
        "years_section": years_section_html(plan),
        "feeders_section": _feeders_section(plan),
        "ses_section": ses_section_html(plan),
    }
    return _env().get_template("report.html").render(**context)


def _feeders_section(plan: Any) -> Any:
    from .feeders import feeders_section

    return feeders_section(plan)


def summary_html(plan: Any) -> str:
    """A compact HTML summary of a plan, for ``Plan._repr_html_`` in notebooks.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan`.

    Returns
    -------
    str
        An HTML fragment (no scripts): status, the district figures today and proposed, and one
        row per school with enrollment and low-income share today and proposed.
    """
    summary = dict(plan.summary or {})
    scenario = _scenario(summary)
    q = question(scenario)
    table = _with_seats_short(plan.schools_table.reset_index(drop=True), q)
    schools = [
        {
            "name": r["name"] if not pd.isna(r["name"]) else r["school_id"],
            "enrollment": f"{_fmt(r['enrollment_before'], 'int')} → "
            f"{_fmt(r['enrollment_after'], 'int')}",
            "utilization": _fmt(r["utilization_after"], "pct0"),
            "share": f"{_fmt(r['low_income_share_before'], 'pct1')} → "
            f"{_fmt(r['low_income_share_after'], 'pct1')}",
        }
        for _, r in table.iterrows()
    ]
    return (
        _env()
        .get_template("summary.html")
        .render(
            title=_title(plan),
            status=_status_text(summary, scenario),
            rows=_summary_rows(summary, table, q),
            schools=schools,
            balances_income=q.balances_income,
        )
    )
