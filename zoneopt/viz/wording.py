"""The report's words for the question a scenario asks: what was minimised, and what it is about.

A scenario that balances low-income students (``balance = "dissimilarity"``) is about the mix of
each school; one that balances nothing (``balance = "none"``) is a capacity redraw, minimising
students moved or distance: its report makes no claim about low-income students and speaks of
seats short and overcrowded schools instead. Every sentence here is chosen from the scenario as
used (summary.json's ``scenario``), so the headline cards, the summary table, the rules list and
the charts name the objective actually minimised.

The dissimilarity index is shown as an index from 0 to 1 (three decimals), never as a
percentage, which reads as a share of students.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "Question",
    "question",
    "objective_name",
    "goal_sentences",
    "capacity_figures",
    "fullest_school",
    "unit_name",
    "guess_unit_name",
    "D_MEANING",
    "headline",
]

#: One line on what the dissimilarity index means, shown wherever the index is.
D_MEANING = "0 = every school has the district's mix; 1 = complete separation"


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(v) else v


@dataclass(frozen=True)
class Question:
    """What a scenario asks, in the terms the report needs.

    Attributes
    ----------
    balance : str
        ``"dissimilarity"``, ``"tiers"`` or ``"none"``.
    distance_weight, moved_weight : float
        The objective's weights.
    max_utilization, min_utilization : float
        The capacity rules.
    middle_weight : float
        ``[feeders] balance_weight`` with nested feeders (the middle schools' dissimilarity is then
        part of the objective), else 0.
    """

    balance: str
    distance_weight: float
    moved_weight: float
    max_utilization: float
    min_utilization: float
    middle_weight: float = 0.0

    @property
    def balances_income(self) -> bool:
        """True when the objective balances low-income and other students (the index D)."""
        return self.balance == "dissimilarity"

    @property
    def balances(self) -> bool:
        """True when the objective balances any groups of students (income or SES tiers)."""
        return self.balance in ("dissimilarity", "tiers")

    @property
    def capacity_redraw(self) -> bool:
        """True when nothing is balanced: the question is capacity (and moves or distance)."""
        return not self.balances


def question(scenario: Mapping[str, Any]) -> Question:
    """The :class:`Question` of a scenario dict (summary.json's ``scenario``; defaults filled)."""
    obj = dict(scenario.get("objective") or {})
    con = dict(scenario.get("constraints") or {})
    feeders = dict(scenario.get("feeders") or {})
    hi = con.get("max_utilization", 1.0)
    return Question(
        balance=str(obj.get("balance", "dissimilarity")),
        distance_weight=_num(obj.get("distance_weight", 0.0)),
        moved_weight=_num(obj.get("moved_weight", 0.0)),
        max_utilization=math.inf if hi is None else float(hi),
        min_utilization=_num(con.get("min_utilization", 0.0)),
        middle_weight=(_num(feeders.get("balance_weight", 1.0))
                       if feeders.get("mode") == "nested" else 0.0),
    )


def objective_name(q: Question) -> str:
    """The objective as minimised, in words: "the dissimilarity index + 0.1 x share moved"."""
    terms = []
    if q.balance == "dissimilarity":
        terms.append("the dissimilarity index (0 to 1)")
    elif q.balance == "tiers":
        terms.append("the multi-group dissimilarity index of the SES tiers (0 to 1)")
    if q.distance_weight > 0:
        terms.append(f"{q.distance_weight:g} x the average distance from home to school (km)")
    if q.moved_weight > 0:
        terms.append(f"{q.moved_weight:g} x the share of students who change school")
    if q.middle_weight > 0:
        terms.append(f"{q.middle_weight:g} x the middle schools' dissimilarity index")
    return " + ".join(terms) if terms else "nothing (any plan that meets every rule)"


def goal_sentences(q: Question) -> list[str]:
    """The rules list's first sentences: what the plan minimises and how the terms trade off."""
    out = []
    if q.balance == "dissimilarity":
        out.append(
            "Goal: make each school's mix of low-income and other students as close to the "
            "district's mix as possible (lowest dissimilarity index)."
        )
        unit = "on the dissimilarity index (0 to 1)"
    elif q.balance == "tiers":
        out.append(
            "Goal: make each school's mix of students of every socioeconomic tier as close to "
            "the district's mix as possible (lowest multi-group dissimilarity index)."
        )
        unit = "on the tiers' dissimilarity index (0 to 1)"
    else:
        aims = []
        if q.moved_weight > 0:
            aims.append("moving as few students as possible")
        if q.distance_weight > 0:
            aims.append("keeping trips from home to school as short as possible")
        rules = "meet every capacity and distance rule"
        out.append(
            f"Goal: {rules}, {' and '.join(aims)}." if aims
            else f"Goal: {rules}; nothing else is minimised (any plan that meets them will do)."
        )
        out.append("Low-income students are not part of this question: the plan does not "
                   "balance them.")
        unit = None
    dw, mw = q.distance_weight, q.moved_weight
    if unit is not None:
        if dw > 0:
            out.append(f"Shorter trips also count: each extra kilometre of average trip costs as "
                       f"much as {dw:.3f} {unit}.")
        if mw > 0:
            out.append(f"Keeping students at their school also counts: moving every student "
                       f"would cost as much as {mw:.3f} {unit}.")
    elif dw > 0 and mw > 0:
        out.append(f"Each extra kilometre of average trip counts as much as moving "
                   f"{100 * dw / mw:.1f}% of students.")
    return out


def capacity_figures(table: pd.DataFrame, when: str, max_utilization: float = 1.0) -> dict:
    """Seats short and overcrowded schools of the schools table, today or proposed.

    Parameters
    ----------
    table
        schools.csv rows (``capacity``, ``enrollment_before`` / ``_after``).
    when
        ``"before"`` or ``"after"``.
    max_utilization
        The scenario's limit: a school is overcrowded above capacity x this.

    Returns
    -------
    dict
        ``seats_short`` (students beyond capacity x max_utilization, summed over schools),
        ``overcrowded`` (number of such schools) and ``per_school`` (seats short of each).
    """
    enrollment = pd.to_numeric(table[f"enrollment_{when}"], errors="coerce").fillna(0.0)
    limit = pd.to_numeric(table["capacity"], errors="coerce") * (
        1.0 if math.isinf(max_utilization) else max_utilization)
    short = (enrollment - limit).clip(lower=0.0).fillna(0.0)
    # Seats are whole: a fraction of a seat short (capacity x 1.05) still needs a seat.
    short = short.map(math.ceil)
    return {"seats_short": int(short.sum()), "overcrowded": int((short > 0).sum()),
            "per_school": short.astype(int).tolist()}


def fullest_school(table: pd.DataFrame, when: str) -> tuple[str, float] | None:
    """Name and utilization of the fullest school, today or proposed (None without figures)."""
    util = pd.to_numeric(table.get(f"utilization_{when}"), errors="coerce")
    if util is None or util.isna().all():
        return None
    k = int(util.fillna(-math.inf).to_numpy().argmax())
    row = table.iloc[k]
    name = row["name"] if "name" in table.columns and not pd.isna(row["name"]) else row["school_id"]
    return str(name), float(util.iloc[k])


def unit_name(plan: Any, scenario: Mapping[str, Any]) -> str:
    """What the units are called: ``[report] unit_name``, else guessed from the units file."""
    given = str((scenario.get("report") or {}).get("unit_name") or "").strip()
    if given:
        return given
    columns = scenario.get("columns") or {}
    district = getattr(plan, "district", None)
    ids = [] if district is None else [str(u) for u in district.units["unit_id"][:200]]
    source = "" if district is None else str(getattr(district, "sources", {}).get("units", ""))
    return guess_unit_name(str(columns.get("unit_id") or "unit_id"), ids, source)


def guess_unit_name(id_column: str, ids: list[str], source: str = "") -> str:
    """Guess what units are from the id column's name, the ids' shape and the file name.

    Returns
    -------
    str
        "planning blocks" (a ``PBID``-like column or file), "census blocks" (15-digit GEOIDs),
        "block groups" (12 digits), "tracts" (11 digits), else "areas".
    """
    hint = f"{id_column} {source}".lower()
    if re.search(r"(^|[^a-z])pb|planning[ _-]?block", hint):
        return "planning blocks"
    if re.search(r"block[ _-]?group|(^|[^a-z])bg", hint):
        return "block groups"
    if "tract" in hint:
        return "tracts"
    digits = {len(i) for i in ids if i.isdigit()}
    if ids and len(digits) == 1 and all(i.isdigit() for i in ids):
        return {15: "census blocks", 12: "block groups", 11: "tracts"}.get(digits.pop(), "areas")
    return "areas"


def headline(summary: Mapping[str, Any]) -> str:
    """The command line's first words about a plan: the figure the scenario is about, and the
    bound labelled as the objective's (with ``balance = "none"`` there is no index to show)."""
    q = question(summary.get("scenario") or {})
    obj, bound = summary.get("objective"), summary.get("bound")
    proof = ""
    if obj is not None and bound is not None:
        proof = f"objective {_num(obj):.4f}, proven bound {_num(bound):.4f}"
    if q.balances_income:
        figure = (f"dissimilarity {_num(summary.get('dissimilarity_before')):.4f} -> "
                  f"{_num(summary.get('dissimilarity_after')):.4f}")
        return f"{figure} ({proof})" if proof else figure
    what = objective_name(q)
    return f"minimised {what}" + (f" ({proof})" if proof else "")
