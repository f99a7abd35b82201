"""Scoring a plan someone drew: a board option, a plan from another tool, an edited plan.

:func:`evaluate` gives the same :class:`~zoneopt.plan.Plan` as :func:`zoneopt.optimize`, with
``status = "given"`` (no search ran, so nothing is claimed about optimality) and ``violations``: the
independent checker's sentences, one per broken rule of the scenario, naming the school or unit and
by how much.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .district import District
from .errors import ZoneoptInputError
from .plan import Plan
from .scenario import Scenario


def evaluate(
    district: District,
    scenario: Scenario | None,
    assignment: pd.Series | dict | np.ndarray,
) -> Plan:
    """Score ``assignment`` under ``scenario``: every figure of summary.json and the rules it breaks.

    Parameters
    ----------
    district
        The units and schools.
    scenario
        The policy whose rules are checked and whose objective is reported (defaults when None).
    assignment
        ``unit_id -> school_id`` (Series or dict, e.g. from :func:`read_assignment`) or school
        positions by unit position.

    Returns
    -------
    Plan
        ``summary["status"] == "given"``; ``summary["violations"]`` is empty when every rule holds.

    Raises
    ------
    ZoneoptInputError
        A unit without a school or an unknown school.

    Examples
    --------
    >>> from zoneopt import District, Scenario, evaluate  # doctest: +SKIP
    >>> plan = evaluate(district, Scenario(), district.assignment_series(district.status_quo))
    >>> plan.summary["violations"]
    []
    """
    return Plan.from_assignment(district, scenario or Scenario(), assignment)


def read_assignment(path: str | os.PathLike, district: District) -> pd.Series:
    """Read a plan CSV ``unit_id,school_id`` (like assignment.csv) and check it names every unit once.

    Parameters
    ----------
    path
        The CSV.
    district
        The district it is for: every unit must appear once, with a school of the district.

    Returns
    -------
    pandas.Series
        ``unit_id -> school_id``.

    Raises
    ------
    ZoneoptInputError
        Naming the file, the row and the column of the first problem and how to fix it.
    """
    path = Path(path)
    if not path.is_file():
        raise ZoneoptInputError("the plan file does not exist; give a CSV unit_id,school_id",
                                file=path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        raise ZoneoptInputError(f"could not read the plan CSV ({type(exc).__name__}: {exc})",
                                file=path) from None
    for col in ("unit_id", "school_id"):
        if col not in table.columns:
            raise ZoneoptInputError(
                f"the plan needs columns unit_id, school_id (found: {', '.join(table.columns)})",
                file=path, column=col)
    units = table["unit_id"].str.strip()
    schools = table["school_id"].str.strip()
    known_units = set(district.unit_ids)
    known_schools = set(district.school_ids)
    seen: set[str] = set()
    for k, (uid, sid) in enumerate(zip(units, schools, strict=True)):
        line = f"line {k + 2}"
        if uid not in known_units:
            raise ZoneoptInputError(f"unit '{uid}' is not a unit of the district; fix or drop the row",
                                    file=path, row=line, column="unit_id")
        if uid in seen:
            raise ZoneoptInputError(f"unit '{uid}' appears more than once; keep one row per unit",
                                    file=path, row=line, column="unit_id")
        seen.add(uid)
        if sid not in known_schools:
            raise ZoneoptInputError(
                f"school '{sid}' of unit '{uid}' is not a school of the district (schools: "
                f"{', '.join(sorted(known_schools)[:8])}{', ...' if len(known_schools) > 8 else ''})",
                file=path, row=line, column="school_id")
    missing = [u for u in district.unit_ids if u not in seen]
    if missing:
        raise ZoneoptInputError(
            f"{len(missing)} unit(s) of the district have no row, e.g. '{missing[0]}'; every unit "
            "needs a school", file=path, row=missing[0], column="unit_id")
    return pd.Series(schools.to_numpy(), index=pd.Index(units.to_numpy(), name="unit_id"),
                     name="school_id")


__all__ = ["evaluate", "read_assignment"]
