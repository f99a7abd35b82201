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

from zoneopt.viz import _templates
from zoneopt.viz.maps import map_html

__all__ = ["report_html", "summary_html", "describe_scenario", "share_chart_svg"]

DEFAULT_TITLE = "Proposed attendance zones"

# The per-school table: (schools.csv column, kind of figure, is it the "after" value).
_SCHOOL_COLUMNS = (
    ("capacity", "int", False),
    ("enrollment_before", "int", False),
    ("enrollment_after", "int", True),
    ("utilization_before", "pct0", False),
    ("utilization_after", "pct0", True),
    ("low_income_share_before", "pct1", False),
    ("low_income_share_after", "pct1", True),
    ("mean_distance_km_before", "km", False),
    ("mean_distance_km_after", "km", True),
    ("students_gained", "int", False),
    ("students_lost", "int", False),
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
        return f"{100 * v:.1f}%"
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
    scenario: Mapping[str, Any], district_share: float | None = None
) -> list[str]:
    """The scenario's rules as sentences a school board reads.

    Parameters
    ----------
    scenario
        The ``scenario`` dict of summary.json (sections objective, constraints, travel, solver);
        missing keys take CONTRACT.md's defaults, infinite limits read "no limit".
    district_share
        The district's low-income share, to state the band in absolute terms.

    Returns
    -------
    list of str
        One sentence per rule, in the order objective, constraints, travel.
    """
    s = _scenario({"scenario": scenario})
    obj, con, travel = s["objective"], s["constraints"], s["travel"]
    out = [
        "Goal: make each school's mix of low-income and other students as close to the "
        "district's mix as possible (lowest dissimilarity index)."
    ]
    dw, mw = _num(obj.get("distance_weight")) or 0.0, _num(obj.get("moved_weight")) or 0.0
    if dw > 0:
        out.append(
            f"Shorter trips also count: each extra kilometre of average trip costs as much as "
            f"{100 * dw:.1f} points of dissimilarity."
        )
    if mw > 0:
        out.append(
            "Keeping students at their school also counts: moving every student would cost as "
            f"much as {100 * mw:.1f} points of dissimilarity."
        )
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
        out.append("Each school's low-income share: no fixed band around the district's share.")
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
    matrix = str(travel.get("matrix") or "")
    out.append(
        f"Distances are travel distances from the file {matrix}."
        if matrix
        else "Distances are straight-line distances from each area's centre to the school."
    )
    return out


def _lede(plan: Any, summary: Mapping[str, Any], scenario: dict) -> str:
    n_schools = summary.get("n_schools") or len(plan.schools_table)
    n_units = summary.get("n_units") or len(plan.district.units)
    aims = ["balance each school's share of low-income students"]
    if (_num(scenario["objective"].get("distance_weight")) or 0) > 0:
        aims.append("keep trips short")
    if (_num(scenario["objective"].get("moved_weight")) or 0) > 0:
        aims.append("keep students at their school")
    return (
        f"A proposal for the attendance zones of {n_schools} schools, drawn from {n_units} "
        f"census areas, to {' and '.join(aims)}."
    )


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
            str(summary.get("stopped_by")), "the time limit ended the search")
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
    left, right, top, row_h = 230, 150, 34, 32
    plot_w = 980 - left - right
    n = len(table)
    plot_h = max(row_h * n, row_h)
    shares = [
        _num(v) for col in ("low_income_share_before", "low_income_share_after") for v in table[col]
    ]
    finite = [v for v in shares if v is not None] + (
        [district_share] if _num(district_share) is not None else []
    )
    band_v = _num(band)
    if band_v is not None and math.isinf(band_v):
        band_v = None
    if band_v is not None and _num(district_share) is not None:
        finite += [min(1.0, district_share + band_v)]
    hi = max(finite) if finite else 1.0
    # Axis to the next 10% above the largest value, so labels are round numbers.
    x_max = min(1.0, max(0.1, math.ceil(hi * 10 + 1e-9) / 10))

    def x(v: float) -> float:
        return round(left + plot_w * v / x_max, 2)

    step = 0.1 if x_max > 0.3 else 0.05
    ticks = [
        {"x": x(t), "label": f"{100 * t:.0f}%"}
        for t in np.arange(0, x_max + 1e-9, step).round(4).tolist()
    ]
    rows = []
    for k, (_, r) in enumerate(table.iterrows()):
        b, a = _num(r["low_income_share_before"]), _num(r["low_income_share_after"])
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
    ds = _num(district_share)
    district = {"x": x(ds) if ds is not None else left, "label": _fmt(ds, "pct1")}
    band_ctx = None
    if band_v is not None and ds is not None:
        lo_b, hi_b = max(0.0, ds - band_v), min(x_max, ds + band_v)
        band_ctx = {
            "x": x(lo_b),
            "w": round(x(hi_b) - x(lo_b), 2),
            "label": f"±{100 * band_v:.1f} points",
        }
    desc = "; ".join(f"{r['name']}: {r['desc']}" for r in rows) + (
        f". District share {district['label']}."
    )
    height = top + plot_h + 78
    svg = (
        _env()
        .get_template("share_chart.svg")
        .render(
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


def _school_rows(table: pd.DataFrame) -> list[dict]:
    rows = []
    for _, r in table.iterrows():
        cells = [
            {"column": col, "raw": _raw(r[col]), "text": _fmt(r[col], kind), "after": after}
            for col, kind, after in _SCHOOL_COLUMNS
        ]
        name = r["name"] if "name" in r.index and not pd.isna(r["name"]) else r["school_id"]
        rows.append({"school_id": str(r["school_id"]), "name": str(name), "cells": cells})
    return rows


def _total_cells(table: pd.DataFrame, summary: Mapping[str, Any]) -> list[dict]:
    def col(c: str) -> float:
        return float(pd.to_numeric(table[c], errors="coerce").fillna(0).sum())

    cap = col("capacity")
    eb, ea = col("enrollment_before"), col("enrollment_after")
    lb = col("low_income_before") if "low_income_before" in table else None
    la = col("low_income_after") if "low_income_after" in table else None
    cells = [
        ("int", cap, False),
        ("int", eb, False),
        ("int", ea, True),
        ("pct0", eb / cap if cap else None, False),
        ("pct0", ea / cap if cap else None, True),
        ("pct1", lb / eb if lb is not None and eb else None, False),
        ("pct1", la / ea if la is not None and ea else None, True),
        ("km", summary.get("mean_distance_km_before"), False),
        ("km", summary.get("mean_distance_km_after"), True),
        ("int", col("students_gained"), False),
        ("int", col("students_lost"), False),
    ]
    return [{"text": _fmt(v, kind), "after": after} for kind, v, after in cells]


def _summary_rows(summary: Mapping[str, Any]) -> list[dict]:
    moved = summary.get("students_moved")
    moved_share = summary.get("moved_share")
    moved_txt = _fmt(moved, "int")
    if _num(moved_share) is not None:
        moved_txt += f" ({_fmt(moved_share, 'pct1')})"
    return [
        {
            "key": "dissimilarity",
            "label": "Dissimilarity index (lower is more balanced)",
            "before": _fmt(summary.get("dissimilarity_before"), "index"),
            "after": _fmt(summary.get("dissimilarity_after"), "index"),
        },
        {
            "key": "max_share_gap",
            "label": "Largest gap between a school's low-income share and the district's",
            "before": _fmt(summary.get("max_share_gap_before"), "pp"),
            "after": _fmt(summary.get("max_share_gap_after"), "pp"),
        },
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
            "before": "–",
            "after": _fmt(summary.get("max_utilization_after"), "pct0"),
        },
    ]


def _solver_rows(summary: Mapping[str, Any], scenario: dict) -> list[tuple[str, str]]:
    solver = str(summary.get("solver") or scenario["solver"].get("name") or "")
    secs = _num(summary.get("solve_seconds"))
    rows = [
        ("Result", _status_text(summary, scenario)),
        ("Solver", _SOLVER_NAMES.get(solver.lower(), solver) or "–"),
    ]
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


def _cards(summary: Mapping[str, Any]) -> list[dict]:
    moved_share = _num(summary.get("moved_share"))
    return [
        {
            "label": "Dissimilarity",
            "value": f"{_fmt(summary.get('dissimilarity_before'), 'index')} → "
            f"{_fmt(summary.get('dissimilarity_after'), 'index')}",
            "note": "today → proposed; lower is more balanced",
        },
        {
            "label": "Largest share gap",
            "value": f"{_fmt(summary.get('max_share_gap_before'), 'pct1').rstrip('%')} → "
            f"{_fmt(summary.get('max_share_gap_after'), 'pct1').rstrip('%')} points",
            "note": "largest difference from the district's low-income share",
        },
        {
            "label": "Students moved",
            "value": _fmt(summary.get("students_moved"), "int"),
            "note": (
                f"{_fmt(moved_share, 'pct1')} of all students"
                if moved_share is not None
                else "change school"
            ),
        },
        {
            "label": "Average distance",
            "value": f"{_fmt(summary.get('mean_distance_km_before'), 'km')} → "
            f"{_fmt(summary.get('mean_distance_km_after'), 'km')}",
            "note": "home to school, today → proposed",
        },
    ]


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
    table = plan.schools_table.reset_index(drop=True)
    district_share = _num(summary.get("district_share"))
    if district_share is None:
        units = plan.district.units
        total = float(units["students"].sum())
        district_share = float(units["low_income"].sum()) / total if total else None
    band = _num(scenario["constraints"].get("low_income_band"))
    chart = share_chart_svg(table, district_share, band)
    if band is not None and not math.isinf(band):
        chart_note = (
            "The dashed line is the district's low-income share; the shaded band is the range "
            "the rules allow each school."
        )
    else:
        chart_note = (
            "The dashed line is the district's low-income share. Balanced schools sit close to it."
        )
    diagnosis = summary.get("diagnosis") or []
    if isinstance(diagnosis, str):
        diagnosis = [diagnosis]
    context = {
        "version": __version__,
        "title": _title(plan),
        "lede": _lede(plan, summary, scenario),
        "css": markupsafe.Markup(_template_text("report.css")),
        "cards": _cards(summary),
        "summary_rows": _summary_rows(summary),
        "solver_rows": _solver_rows(summary, scenario),
        "diagnosis": [str(d) for d in diagnosis],
        "scenario": describe_scenario(scenario, district_share),
        # A plain str: autoescaping turns it into a valid srcdoc attribute value.
        "map_html": map_html(plan),
        "school_rows": _school_rows(table),
        "total_cells": _total_cells(table, summary),
        "road_distances": bool(scenario["travel"].get("matrix")),
        "chart": chart,
        "chart_note": chart_note,
    }
    return _env().get_template("report.html").render(**context)


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
    table = plan.schools_table.reset_index(drop=True)
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
            rows=_summary_rows(summary),
            schools=schools,
        )
    )
