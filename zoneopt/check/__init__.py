"""The independent plan checker.

Given a :class:`~zoneopt.district.District`, a :class:`~zoneopt.scenario.Scenario` and an assignment,
it re-derives every constraint and every reported figure from the input files' geometry and numbers:
its own adjacency, distances, home units, islands, status quo and contiguity
(:mod:`zoneopt.check.geometry`), its own rules (:mod:`zoneopt.check.rules`) and figures
(:mod:`zoneopt.check.figures`). It imports nothing of the model, the search, :mod:`zoneopt.metrics` or
:mod:`zoneopt.plan`, and reads none of ``District``'s derived arrays (tests/check/test_independence.py
enforces this), so a bug in the code that made a plan cannot also hide in the code that checks it.

Additions check their own rules in a module of their own (``zoneopt/check/<feature>.py``), called at
the end of :func:`check_plan`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import figures as _figures
from . import rules as _rules
from .feeders import check_second_level
from .geometry import Geometry, derive
from .ses import check_ses
from .travel import barrier_pairs_of, check_travel
from .years import check_years


@dataclass
class CheckReport:
    """What the checker found.

    Attributes
    ----------
    ok : bool
        True when no constraint is violated and (if a summary was given) every figure matches.
    violations : list of str
        One sentence per violated constraint or mismatched figure.
    figures : dict
        The checker's own figures (the keys of summary.json it can re-derive).
    rule_violations : list of str
        The part of ``violations`` that are broken rules of the scenario (what ``evaluate`` reports).
    """

    ok: bool
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    rule_violations: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError`` listing the violations, if any."""
        if not self.ok:
            raise AssertionError("plan check failed:\n- " + "\n- ".join(self.violations))


def check_plan(
    district: Any,
    scenario: Any,
    assignment: pd.Series | dict | np.ndarray,
    summary: dict[str, Any] | None = None,
) -> CheckReport:
    """Check a plan against the scenario and, optionally, its reported figures.

    Parameters
    ----------
    district : zoneopt.district.District
        The district the plan is for (only its validated input frames and sources are read).
    scenario : zoneopt.scenario.Scenario
        The policy the plan must satisfy.
    assignment
        ``unit_id -> school_id`` (Series or dict) or school positions by unit position.
    summary
        The plan's reported summary (summary.json); every figure the checker re-derives is compared,
        and ``status``/``bound``/``gap``/``violations`` are checked against CONTRACT.md's rules.

    Returns
    -------
    CheckReport
    """
    # [travel] barriers: neighbours along a barrier are not neighbours (check/travel.py).
    geo = derive(district).without_pairs(barrier_pairs_of(district, scenario))
    pos, problems = _positions(geo, assignment)
    if pos is None:
        return CheckReport(False, problems, {}, list(problems))
    c = scenario.constraints
    violations: list[str] = list(problems)  # the scenario's rules the plan breaks
    if not scenario.years.plan:  # with planned years, capacity is checked per year by years.py
        violations += _rules.capacity(geo, pos, c)
    violations += _rules.distance(geo, pos, c)
    violations += _rules.locks_and_homes(geo, pos)
    violations += _rules.moved_share(geo, pos, c)
    violations += _rules.band(geo, pos, c)
    contiguous, pieces = _rules.contiguity(geo, pos)
    if c.contiguity:
        violations += pieces
    figures = _figures.plan_figures(geo, pos, scenario, contiguous)
    objective = figures["objective"]

    # Additions: each feature's own checks, one call each: its broken rules into `violations`, its
    # figures into `figures`, its objective term into `objective`.
    o = scenario.objective
    years_check = check_years(district, scenario, pos, summary)  # None without [years] plan
    if years_check is not None:
        violations.extend(years_check.violations)
        if o.balance == "dissimilarity":
            objective += years_check.balance - figures["dissimilarity_after"]
    travel_violations, travel_figures = check_travel(district, scenario, pos)
    violations.extend(travel_violations)
    if "walk_zone_units" in travel_figures:
        figures["walk_zone_units"] = travel_figures["walk_zone_units"]
    second = check_second_level(district, scenario, pos, summary)  # middle zones, neighbourhoods
    violations.extend(second.violations)
    figures.update(second.figures)
    objective += second.objective
    ses = check_ses(district, scenario, pos, summary)  # SES tiers and monitored groups
    violations.extend(ses.violations)
    figures.update(ses.figures)
    objective += ses.objective_term
    figures["objective"] = objective
    mismatches: list[str] = []
    if summary is not None:
        mismatches += _figures.compare(summary, figures, scenario)
        mismatches += _figures.status_rules(summary, scenario, violations)
    everything = violations + mismatches
    return CheckReport(not everything, everything, figures, violations)


def _positions(geo: Geometry, assignment) -> tuple[np.ndarray | None, list[str]]:
    """School position per unit, or None and the reasons the assignment cannot be read."""
    n, m = len(geo.unit_ids), len(geo.school_ids)
    if isinstance(assignment, np.ndarray):
        pos = np.asarray(assignment)
        if pos.shape != (n,) or not np.issubdtype(pos.dtype, np.integer) or (pos < 0).any() or (
                pos >= m).any():
            return None, [f"assignment array must hold {n} school positions in 0..{m - 1}"]
        return pos.astype(np.int64), []
    mapping = {str(k): str(v) for k, v in dict(assignment).items()}
    known = set(geo.unit_ids)
    extra = sorted(set(mapping) - known)
    problems = []
    if extra:
        problems.append(f"assignment names {len(extra)} unknown unit(s), e.g. {extra[0]}")
    sidx = {s: j for j, s in enumerate(geo.school_ids)}
    pos = np.full(n, -1, dtype=np.int64)
    for i, uid in enumerate(geo.unit_ids):
        sid = mapping.get(uid)
        if sid is None:
            problems.append(f"unit {uid} has no school")
        elif sid not in sidx:
            problems.append(f"unit {uid} is assigned to unknown school {sid}")
        else:
            pos[i] = sidx[sid]
    if (pos < 0).any():
        return None, problems
    return pos, problems


__all__ = ["CheckReport", "check_plan"]
