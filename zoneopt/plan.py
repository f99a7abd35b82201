"""A plan: the assignment, its figures before and after, and the contract's output folder."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io, metrics
from .district import District
from .scenario import Scenario
from .tiers import ses_figures, ses_school_columns, tier_objective
from .travel.walkzones import walk_zone_figures
from .years import years_active, years_figures, years_objective_fn, years_table

SCHOOL_COLUMNS = [
    "school_id", "name", "capacity",
    "enrollment_before", "enrollment_after",
    "utilization_before", "utilization_after",
    "low_income_before", "low_income_after",
    "low_income_share_before", "low_income_share_after",
    "mean_distance_km_before", "mean_distance_km_after",
    "students_gained", "students_lost",
]


@dataclass
class Plan:
    """An attendance plan for a district under a scenario, with every figure a board asks for.

    Attributes
    ----------
    district : District
    scenario : Scenario
    positions : numpy.ndarray or None
        School position of each unit (None when no plan exists).
    summary : dict
        The figures of summary.json (CONTRACT.md).
    trace : list of dict
        Each improvement of the search: seconds, objective, dissimilarity, bound, source.
    """

    district: District
    scenario: Scenario
    positions: np.ndarray | None
    summary: dict[str, Any]
    trace: list[dict[str, Any]] = field(default_factory=list)
    #: Nested feeders: the middle school (position) each elementary school feeds (zoneopt.feeders).
    feeds: np.ndarray | None = None

    # ------------------------------------------------------------------------------ construction
    @classmethod
    def from_assignment(
        cls,
        district: District,
        scenario: Scenario,
        assignment: np.ndarray | pd.Series | dict,
        *,
        status: str | None = None,
        bound: float = 0.0,
        solver: str = "",
        seconds: float = 0.0,
        trace: list[dict[str, Any]] | None = None,
        stopped_by: str | None = None,
        interrupted: bool = False,
        feeds: np.ndarray | None = None,
    ) -> Plan:
        """Make a plan, with all its figures, from an assignment.

        Called with the district, scenario and assignment only, this scores a plan someone drew (a
        board option, another tool's plan): ``status`` is ``given`` and ``violations`` lists, in
        sentences from the independent checker, every rule of the scenario the plan breaks.

        The search passes ``status="search"`` (or any searched status) with the ``bound`` it proved
        for the exact problem; the status then follows CONTRACT.md's one rule: ``optimal`` when
        gap = (objective - bound) / objective is within ``solver.mip_gap``, else ``feasible``.

        Parameters
        ----------
        district, scenario
            The problem.
        assignment
            ``unit_id -> school_id`` (Series or dict) or school positions by unit position.
        status
            None or ``"given"`` for a scored plan; anything else marks a searched plan.
        bound
            A lower bound on the objective proven for the exact problem (0 is always one).
        solver, seconds, trace
            What ran, for how long, and the history of improvements.
        stopped_by
            Why the search ended: ``work_budget``, ``time_limit``, ``proof`` or ``interrupted``.
        interrupted
            Shorthand for ``stopped_by="interrupted"``.
        feeds
            With ``[feeders] mode = "nested"``, the middle school position each elementary school
            feeds.

        Returns
        -------
        Plan

        Raises
        ------
        ZoneoptInputError
            When a unit has no school or names an unknown one.
        """
        from .feeders import feeder_figures, objective_term
        from .neighbourhoods import neighbourhood_figures

        pos = district.assignment_positions(assignment)
        obj = _objective(district, scenario, pos) + objective_term(district, scenario, pos, feeds)
        given = status in (None, "given")
        bound = 0.0 if given else float(min(bound, obj))
        gap = 0.0 if obj <= 1e-12 else max(0.0, (obj - bound) / obj)
        if given:
            status = "given"
        else:
            # 1e-9: floating-point round-off of objective - bound (HiGHS's bound of a proven optimum
            # can differ from the objective in the 15th digit).
            status = "optimal" if gap <= scenario.solver.mip_gap + 1e-9 else "feasible"
        if interrupted:
            stopped_by = "interrupted"
        summary: dict[str, Any] = {
            "status": status,
            "objective": obj,
            "bound": bound,
            "gap": float(gap),
            "solver": solver,
            "solve_seconds": float(seconds),
            **_figures(district, scenario, pos),
            **walk_zone_figures(district, scenario),
            **years_figures(district, scenario, pos),
            **feeder_figures(district, scenario, pos, feeds),
            **neighbourhood_figures(district, scenario, pos),
            "stopped_by": None if given else (stopped_by or "work_budget"),
            "distance_source": distance_source(district),
        }
        if given:
            from .check import check_plan

            # The summary carries what the checker cannot derive alone (e.g. a nested feeder map).
            summary["violations"] = check_plan(district, scenario, pos, summary=summary).rule_violations
        summary["scenario"] = scenario.to_dict()
        if interrupted:
            summary["interrupted"] = True
        return cls(district, scenario, pos, summary, list(trace or []),
                   feeds=None if feeds is None else np.asarray(feeds, dtype=np.int64))

    @classmethod
    def failed(
        cls,
        district: District,
        scenario: Scenario,
        status: str,
        diagnosis: list[str],
        seconds: float,
        solver: str,
        *,
        stopped_by: str | None = None,
    ) -> Plan:
        """A plan object for a scenario with no plan: the summary holds the diagnosis."""
        sq = district.status_quo
        # A unit the travel matrix gives no school has no status quo: no "before" figures then.
        before = (_figures(district, scenario, sq) if (sq >= 0).all() else
                  dict.fromkeys(("dissimilarity_before", "max_share_gap_before",
                                 "mean_distance_km_before")))
        before.update(_second_level_before(district, scenario))
        summary = {
            "status": status,
            "objective": None,
            "bound": None,
            "gap": None,
            "solver": solver,
            "solve_seconds": float(seconds),
            **{k: v for k, v in before.items() if k.endswith("_before")},
            "n_units": district.n_units,
            "n_schools": district.n_schools,
            "islands": int(district.islands.sum()),
            **walk_zone_figures(district, scenario),
            **years_figures(district, scenario, None),
            "stopped_by": stopped_by,
            "distance_source": distance_source(district),
            "scenario": scenario.to_dict(),
            "diagnosis": list(diagnosis),
        }
        return cls(district, scenario, None, summary, [])

    # ------------------------------------------------------------------------------ views
    @property
    def status(self) -> str:
        """optimal, feasible, given, infeasible or no_solution."""
        return self.summary["status"]

    @property
    def ok(self) -> bool:
        """True when the plan has an assignment."""
        return self.positions is not None

    @property
    def title(self) -> str:
        """The report title from the scenario (may be empty)."""
        return self.scenario.report.title

    @property
    def assignment(self) -> pd.Series | None:
        """``unit_id -> school_id`` of the plan."""
        if self.positions is None:
            return None
        return self.district.assignment_series(self.positions)

    @property
    def status_quo(self) -> pd.Series:
        """``unit_id -> school_id`` of today's plan."""
        return self.district.assignment_series(self.district.status_quo)

    @property
    def schools_table(self) -> pd.DataFrame:
        """Per school, before and after (the content of schools.csv)."""
        return schools_table(self.district, self.positions)

    def check(self):
        """Re-check this plan with the independent checker (see :func:`zoneopt.check.check_plan`)."""
        from .check import check_plan

        return check_plan(self.district, self.scenario, self.positions, summary=self.summary)

    def zones(self) -> Any:
        """Dissolved zones (WGS84) with school_id, name, enrollment, capacity, utilization and share."""
        import geopandas as gpd

        if self.positions is None:
            raise ValueError("this plan has no assignment")
        units = self.district.units[["geometry"]].copy()
        units["school_id"] = self.district.school_ids[self.positions]
        zones = units.dissolve(by="school_id", sort=False).reset_index()
        table = self.schools_table.set_index("school_id")
        zones = zones.set_index("school_id").reindex(
            [s for s in self.district.school_ids if s in set(zones["school_id"])]
        ).reset_index()
        zones["name"] = table.loc[zones["school_id"], "name"].to_numpy()
        zones["enrollment"] = table.loc[zones["school_id"], "enrollment_after"].to_numpy()
        zones["capacity"] = table.loc[zones["school_id"], "capacity"].to_numpy()
        zones["utilization"] = table.loc[zones["school_id"], "utilization_after"].to_numpy()
        zones["low_income_share"] = table.loc[zones["school_id"], "low_income_share_after"].to_numpy()
        out = gpd.GeoDataFrame(
            zones[["school_id", "name", "enrollment", "capacity", "utilization", "low_income_share",
                   "geometry"]], geometry="geometry", crs=self.district.crs,
        )
        return out.to_crs("EPSG:4326")

    def map(self, *, basemap: bool = True) -> Any:
        """An interactive folium map of the plan (renders inline in Jupyter)."""
        from .viz.maps import plan_map

        return plan_map(self, basemap=basemap)

    def _repr_html_(self) -> str:
        try:
            from .viz.report import summary_html

            return summary_html(self)
        except ImportError:
            return pd.DataFrame([_display_summary(self.summary)]).T.to_html(header=False)

    def __repr__(self) -> str:
        s = self.summary
        if self.positions is None:
            return f"Plan(status={s['status']!r}, diagnosis={s.get('diagnosis')})"
        return (
            f"Plan(status={s['status']!r}, D {s['dissimilarity_before']:.4f} -> "
            f"{s['dissimilarity_after']:.4f}, gap {s['gap']:.2%}, moved {s['students_moved']}, "
            f"{s['solve_seconds']:.1f}s)"
        )

    # ------------------------------------------------------------------------------ output
    def save(self, out: str | os.PathLike, *, maps: bool = True) -> Path:
        """Write the contract's output folder atomically (complete, or not at all).

        Parameters
        ----------
        out
            The folder; an existing one is replaced whole once the new one is complete.
        maps
            Also write map.html and report.html.

        Returns
        -------
        pathlib.Path
        """
        with io.atomic_directory(out) as tmp:
            io.write_json(tmp / "summary.json", self.summary)
            if years_active(self.scenario):  # today's zones per year even when no plan was found
                io.write_csv(tmp / "years.csv", years_table(self))
            if self.positions is not None:
                io.write_csv(tmp / "assignment.csv",
                             self.assignment.rename("school_id").reset_index())
                io.write_csv(tmp / "schools.csv", self.schools_table)
                io.write_text(tmp / "zones.geojson", self.zones().to_json(drop_id=True))
                from .feeders import save_outputs

                save_outputs(tmp, self)
                if maps:
                    from .viz.maps import map_html
                    from .viz.report import report_html

                    io.write_text(tmp / "map.html", map_html(self))
                    io.write_text(tmp / "report.html", report_html(self))
                    from .desk.outputs import write_desk_outputs

                    write_desk_outputs(self, tmp)
        return Path(out)


def _second_level_before(district: District, scenario: Scenario) -> dict[str, Any]:
    """Today's feeder and neighbourhood figures (for a plan that could not be made)."""
    from .feeders import feeder_figures
    from .neighbourhoods import neighbourhood_figures

    if (district.status_quo < 0).any():
        return {}
    sq = district.status_quo
    return {**feeder_figures(district, scenario, sq, None), **neighbourhood_figures(district, scenario, sq)}


def _objective(district: District, scenario: Scenario, pos: np.ndarray) -> float:
    o = scenario.objective
    years_fn = years_objective_fn(district, scenario)
    if years_fn is not None:
        return years_fn(pos)
    return metrics.objective_value(
        pos, district.students, district.low_income, district.dist_km, district.status_quo,
        district.n_schools, balance=o.balance == "dissimilarity",
        distance_weight=o.distance_weight, moved_weight=o.moved_weight,
    ) + tier_objective(district, scenario, pos)


def _figures(district: District, scenario: Scenario, pos: np.ndarray) -> dict[str, Any]:
    s, low, m = district.students, district.low_income, district.n_schools
    sq = district.status_quo
    total = float(s.sum())
    enr = metrics.enrollment(pos, s, m)
    dist = district.dist_km
    sq_ok = (sq >= 0).all()
    return {
        "dissimilarity_before": metrics.dissimilarity(sq, s, low, m) if sq_ok else None,
        "dissimilarity_after": metrics.dissimilarity(pos, s, low, m),
        "max_share_gap_before": metrics.max_share_gap(sq, s, low, m) if sq_ok else None,
        "max_share_gap_after": metrics.max_share_gap(pos, s, low, m),
        "students_moved": metrics.students_moved(pos, sq, s),
        "moved_share": metrics.students_moved(pos, sq, s) / total if total else 0.0,
        "mean_distance_km_before": metrics.mean_distance_km(sq, s, dist) if sq_ok else None,
        "mean_distance_km_after": metrics.mean_distance_km(pos, s, dist),
        "max_utilization_after": float(np.max(enr / district.capacity)),
        "contiguous": _contiguous(district, pos),
        "islands": int(district.islands.sum()),
        "n_units": district.n_units,
        "n_schools": m,
        "district_share": metrics.district_share(s, low),
        **ses_figures(district, pos),
    }


def _contiguous(district: District, pos: np.ndarray) -> bool:
    return not metrics.disconnected_units(pos, district.adjacency, district.home_unit,
                                          district.islands, district.n_schools)


def distance_source(district: District) -> str:
    """``straight_line``, or the name of the travel matrix file the distances come from."""
    return district.distance_source_name


def schools_table(district: District, positions: np.ndarray | None) -> pd.DataFrame:
    """Per-school figures before (status quo) and after (``positions``)."""
    s, low, m, d = district.students, district.low_income, district.n_schools, district.dist_km
    sq = district.status_quo
    after = sq if positions is None else positions
    cap = district.capacity.astype(float)
    enr_b, enr_a = metrics.enrollment(sq, s, m), metrics.enrollment(after, s, m)
    low_b = np.bincount(sq, weights=low, minlength=m).astype(np.int64)
    low_a = np.bincount(after, weights=low, minlength=m).astype(np.int64)
    moved = after != sq
    gained = np.bincount(after[moved], weights=s[moved], minlength=m).astype(np.int64)
    lost = np.bincount(sq[moved], weights=s[moved], minlength=m).astype(np.int64)
    return pd.DataFrame({
        "school_id": district.school_ids,
        "name": district.schools["name"].to_numpy(dtype=object),
        "capacity": district.capacity,
        "enrollment_before": enr_b,
        "enrollment_after": enr_a,
        "utilization_before": enr_b / cap,
        "utilization_after": enr_a / cap,
        "low_income_before": low_b,
        "low_income_after": low_a,
        "low_income_share_before": metrics.low_income_shares(sq, s, low, m),
        "low_income_share_after": metrics.low_income_shares(after, s, low, m),
        "mean_distance_km_before": metrics.school_mean_distance_km(sq, s, d, m),
        "mean_distance_km_after": metrics.school_mean_distance_km(after, s, d, m),
        "students_gained": gained,
        "students_lost": lost,
    })[SCHOOL_COLUMNS].join(ses_school_columns(district, sq, after))


def _display_summary(summary: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in summary.items():
        if k == "scenario":
            continue
        out[k] = round(v, 4) if isinstance(v, float) and math.isfinite(v) else v
    return out
