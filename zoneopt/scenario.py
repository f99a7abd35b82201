"""The policy: a frozen dataclass per TOML section, validated with the key's name in every error."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ZoneoptInputError

INF = math.inf


@dataclass(frozen=True)
class Objective:
    """What the plan minimises: the dissimilarity index plus optional weighted terms."""

    balance: str = "dissimilarity"
    distance_weight: float = 0.0
    moved_weight: float = 0.0


@dataclass(frozen=True)
class Constraints:
    """Hard rules every plan satisfies (CONTRACT.md)."""

    max_utilization: float = 1.0
    min_utilization: float = 0.0
    max_distance_km: float = INF
    max_extra_distance_km: float = INF
    contiguity: bool = True
    max_moved_share: float = 1.0
    low_income_band: float = INF
    tier_band: float = INF
    walk_zone_km: float = 0.0
    neighbourhoods: str = ""
    keep_neighbourhoods: bool = False


@dataclass(frozen=True)
class Travel:
    """Where distances come from: straight lines, or a travel matrix CSV."""

    matrix: str = ""
    barriers: str = ""


@dataclass(frozen=True)
class Columns:
    """The names in the planner's own files, where they differ from the contract's (Additions)."""

    unit_id: str = "unit_id"
    students: str = "students"
    low_income: str = "low_income"
    current_school: str = "current_school"
    locked_school: str = "locked_school"
    school_id: str = "school_id"
    school_name: str = "name"
    capacity: str = "capacity"
    schools_where: str = ""


@dataclass(frozen=True)
class Years:
    """Plan years and enrollment projections (Additions)."""

    projections: str = ""
    plan: tuple[int, ...] = ()
    series: tuple[str, ...] = ("mid",)
    balance_year: str | int = "mean"


@dataclass(frozen=True)
class Transition:
    """Phase-in: grandfathered grades stay at their status-quo school (Additions)."""

    start_year: int = 0
    grandfather_grades: tuple[int, ...] = ()
    top_grade: int = 5


@dataclass(frozen=True)
class Feeders:
    """Middle schools fed by the elementary zones (Additions)."""

    middle_schools: str = ""
    mode: str = "none"
    middle_max_utilization: float = 1.0
    balance_weight: float = 1.0


@dataclass(frozen=True)
class Solver:
    """How the search runs.

    ``contiguity_model`` (an extension of the contract): ``"auto"`` searches with the closer-neighbour
    rule and large-neighbourhood steps and then proves what it can with exact cut constraints;
    ``"exact"`` uses only the exact cut model; ``"closer_neighbour"`` only the closer-neighbour rule
    (its plans are contiguous; its bound is still computed on the exact problem).

    ``work_budget`` (an extension): a multiplier of the search's counted work (solver nodes, search
    steps, cut rounds; zoneopt/settings.py). The plan depends on it, not on the machine's speed:
    ``time_limit_s`` is only a safety stop (summary.json ``stopped_by = "time_limit"`` when it ends
    the search first).
    """

    name: str = "highs"
    time_limit_s: float = 300.0
    mip_gap: float = 0.01
    threads: int = 0
    seed: int = 0
    contiguity_model: str = "auto"
    work_budget: float = 1.0


@dataclass(frozen=True)
class Report:
    """Presentation settings (an extension of the contract)."""

    title: str = ""
    suppress_below: int = 0
    addresses: str = ""
    pdf: bool = True
    unit_name: str = ""


_SECTIONS: dict[str, type] = {
    "objective": Objective,
    "constraints": Constraints,
    "travel": Travel,
    "solver": Solver,
    "report": Report,
    "columns": Columns,
    "years": Years,
    "transition": Transition,
    "feeders": Feeders,
}

#: Keys whose value is a file path: relative paths are relative to the scenario file.
PATH_KEYS = (
    "travel.matrix", "travel.barriers", "constraints.neighbourhoods", "years.projections",
    "feeders.middle_schools", "report.addresses",
)


@dataclass(frozen=True)
class Scenario:
    """A complete scenario; every key optional, defaults as in CONTRACT.md.

    Examples
    --------
    >>> s = Scenario.from_dict({"constraints": {"max_extra_distance_km": 3}})
    >>> s.constraints.max_extra_distance_km
    3.0
    >>> s.with_values({"constraints.max_moved_share": 0.2}).constraints.max_moved_share
    0.2
    """

    objective: Objective = field(default_factory=Objective)
    constraints: Constraints = field(default_factory=Constraints)
    travel: Travel = field(default_factory=Travel)
    solver: Solver = field(default_factory=Solver)
    report: Report = field(default_factory=Report)
    columns: Columns = field(default_factory=Columns)
    years: Years = field(default_factory=Years)
    transition: Transition = field(default_factory=Transition)
    feeders: Feeders = field(default_factory=Feeders)
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _check_values(self)

    # -------------------------------------------------------------------------------- loading
    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Scenario:
        """Read a scenario TOML file; unknown keys and impossible values are clear errors.

        Parameters
        ----------
        path
            The scenario file.

        Returns
        -------
        Scenario
        """
        path = Path(path)
        if not path.exists():
            raise ZoneoptInputError("the scenario file does not exist", file=path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ZoneoptInputError(f"the scenario is not valid TOML: {exc}", file=path) from None
        scenario = cls.from_dict(data, source=str(path))
        # A relative file path is relative to the scenario file, as a planner would expect.
        resolved = {}
        for dotted in PATH_KEYS:
            section, key = dotted.split(".")
            value = getattr(getattr(scenario, section), key)
            if value and not Path(value).is_absolute():
                resolved[dotted] = str((path.parent / value).resolve())
        return scenario.with_values(resolved) if resolved else scenario

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, source: str = "scenario") -> Scenario:
        """Build a scenario from nested ``{section: {key: value}}``.

        Raises
        ------
        ZoneoptInputError
            Naming the unknown section or key (with a suggestion) or the bad value.
        """
        data = dict(data or {})
        sections: dict[str, Any] = {}
        for name, values in data.items():
            if name not in _SECTIONS:
                raise ZoneoptInputError(
                    f"unknown section [{name}]{_suggest(name, list(_SECTIONS))}; "
                    f"sections are {', '.join('[' + s + ']' for s in _SECTIONS)}",
                    file=source,
                    column=name,
                )
            if not isinstance(values, dict):
                raise ZoneoptInputError(
                    f"[{name}] must be a table of keys", file=source, column=name
                )
            sections[name] = _build_section(name, values, source)
        try:
            return cls(**sections, source=source)
        except ZoneoptInputError as exc:
            raise ZoneoptInputError(exc.detail, file=source, column=exc.column) from None

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The scenario as nested dicts (the shape of the TOML file)."""
        return {
            name: {k: list(v) if isinstance(v, tuple) else v
                   for k, v in dataclasses.asdict(getattr(self, name)).items()}
            for name in _SECTIONS
        }

    def to_toml(self) -> str:
        """The scenario as TOML text (``inf`` written as TOML's ``inf``)."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | os.PathLike) -> Path:
        """Write the scenario to a TOML file atomically."""
        from .io import write_text

        return write_text(path, self.to_toml())

    def with_values(self, values: dict[str, Any]) -> Scenario:
        """A copy with ``{"section.key": value}`` replaced (values from text are parsed).

        Parameters
        ----------
        values
            Dotted keys, e.g. ``{"constraints.max_extra_distance_km": 2}``.
        """
        data = self.to_dict()
        for dotted, value in values.items():
            if "." not in dotted:
                raise ZoneoptInputError(
                    f"'{dotted}' is not a scenario key; write it as section.key, "
                    "e.g. constraints.max_extra_distance_km",
                    column=dotted,
                )
            section, key = dotted.split(".", 1)
            if section not in _SECTIONS:
                raise ZoneoptInputError(
                    f"unknown section '{section}'{_suggest(section, list(_SECTIONS))}",
                    column=dotted,
                )
            data[section][key] = value
        return Scenario.from_dict(data, source=self.source or "scenario")

    def describe(self) -> list[str]:
        """The policy in plain words, one sentence per rule (for reports and notebooks)."""
        c, o = self.constraints, self.objective
        lines = []
        if o.balance == "dissimilarity":
            lines.append("Balance low-income and other students across schools (dissimilarity index).")
        if o.distance_weight:
            lines.append(f"Also keep trips short (weight {o.distance_weight:g} per km of mean distance).")
        if o.moved_weight:
            lines.append(f"Also keep families at their school (weight {o.moved_weight:g} per share moved).")
        lines.append(f"No school above {c.max_utilization:.0%} of its capacity"
                     + (f" or below {c.min_utilization:.0%}." if c.min_utilization > 0 else "."))
        if math.isfinite(c.max_distance_km):
            lines.append(f"No student assigned more than {c.max_distance_km:g} km from school.")
        if math.isfinite(c.max_extra_distance_km):
            lines.append(
                f"No student assigned more than {c.max_extra_distance_km:g} km farther than "
                "their nearest school."
            )
        lines.append("Each zone is one connected area around its school." if c.contiguity
                     else "Zones need not be connected.")
        if c.max_moved_share < 1:
            lines.append(f"At most {c.max_moved_share:.0%} of students change school.")
        if math.isfinite(c.low_income_band):
            lines.append(
                f"Each school's low-income share within {c.low_income_band:.0%} points of the district's."
            )
        if self.travel.matrix:
            lines.append("Distances come from a travel matrix.")
        return lines


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _build_section(name: str, values: dict[str, Any], source: str) -> Any:
    cls = _SECTIONS[name]
    known = {f.name: f for f in fields(cls)}
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise ZoneoptInputError(
                f"unknown key '{key}' in [{name}]{_suggest(key, list(known))}; "
                f"keys of [{name}] are {', '.join(known)}",
                file=source,
                column=f"{name}.{key}",
            )
        kwargs[key] = _coerce(value, known[key], f"{name}.{key}", source)
    return cls(**kwargs)


def _coerce(value: Any, fld: dataclasses.Field, dotted: str, source: str) -> Any:
    default = fld.default
    try:
        if isinstance(default, tuple):
            # Lists of years, grades or series: every element like the default's elements.
            items = list(value) if isinstance(value, list | tuple) else None
            if items is None:
                raise ValueError
            kind = str if fld.type in ("tuple[str, ...]",) else int
            out = []
            for item in items:
                if kind is int:
                    if isinstance(item, bool) or not float(item).is_integer():
                        raise ValueError
                    out.append(int(float(item)))
                else:
                    if not isinstance(item, str):
                        raise ValueError
                    out.append(item)
            return tuple(out)
        if fld.name == "balance_year":
            if isinstance(value, str) and value.strip().lower() == "mean":
                return "mean"
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
                return value.strip().lower() in ("true", "1")
            raise ValueError
        if isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if isinstance(default, float):
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if math.isnan(number):
                raise ValueError
            return number
        if isinstance(default, str):
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        kind = {"balance_year": "year or 'mean'"}.get(fld.name) or (
            "list" if isinstance(default, tuple)
            else type(default).__name__.replace("float", "number").replace("int", "whole number"))
        raise ZoneoptInputError(
            f"{dotted} = {value!r} is not a {kind}", file=source, column=dotted
        ) from None
    return value


def _check_values(s: Scenario) -> None:
    c, o, v = s.constraints, s.objective, s.solver

    def bad(key: str, message: str) -> None:
        raise ZoneoptInputError(message, file=s.source or "scenario", column=key)

    if o.balance not in ("dissimilarity", "tiers", "none"):
        bad("objective.balance",
            f"objective.balance = '{o.balance}': use 'dissimilarity', 'tiers' or 'none'")
    for key in ("distance_weight", "moved_weight"):
        if getattr(o, key) < 0 or not math.isfinite(getattr(o, key)):
            bad(f"objective.{key}", f"objective.{key} must be a finite number >= 0")
    if c.max_utilization <= 0:
        bad("constraints.max_utilization", "constraints.max_utilization must be greater than 0")
    if c.min_utilization < 0:
        bad("constraints.min_utilization", "constraints.min_utilization cannot be below 0")
    if c.min_utilization > c.max_utilization:
        bad(
            "constraints.min_utilization",
            f"constraints.min_utilization ({c.min_utilization}) is above max_utilization "
            f"({c.max_utilization}); lower the minimum or raise the maximum",
        )
    for key in ("max_distance_km", "max_extra_distance_km", "low_income_band", "tier_band",
                "walk_zone_km"):
        if getattr(c, key) < 0:
            bad(f"constraints.{key}", f"constraints.{key} cannot be negative (use inf for no limit)")
    if not 0 <= c.max_moved_share <= 1:
        bad("constraints.max_moved_share", "constraints.max_moved_share must be between 0 and 1")
    if v.time_limit_s <= 0:
        bad("solver.time_limit_s", "solver.time_limit_s must be greater than 0 seconds")
    if not 0 <= v.mip_gap < 1:
        bad("solver.mip_gap", "solver.mip_gap must be a fraction from 0 up to (not including) 1")
    if not v.work_budget > 0:
        bad("solver.work_budget", "solver.work_budget must be greater than 0 (1 is the default)")
    if v.threads < 0:
        bad("solver.threads", "solver.threads must be 0 (automatic) or more")
    if v.contiguity_model not in ("auto", "exact", "closer_neighbour"):
        bad("solver.contiguity_model",
            "solver.contiguity_model must be 'auto', 'exact' or 'closer_neighbour'")
    if not v.name.strip():
        bad("solver.name", "solver.name cannot be empty (use 'highs' or 'cbc')")
    if c.keep_neighbourhoods and not c.neighbourhoods:
        bad("constraints.keep_neighbourhoods",
            "constraints.keep_neighbourhoods = true needs constraints.neighbourhoods (a polygons file)")
    f, y, t, r = s.feeders, s.years, s.transition, s.report
    if f.mode not in ("none", "report", "nested"):
        bad("feeders.mode", f"feeders.mode = '{f.mode}': use 'none', 'report' or 'nested'")
    if f.mode != "none" and not f.middle_schools:
        bad("feeders.middle_schools",
            f"feeders.mode = '{f.mode}' needs feeders.middle_schools (a schools file)")
    if f.middle_max_utilization <= 0:
        bad("feeders.middle_max_utilization", "feeders.middle_max_utilization must be greater than 0")
    if f.balance_weight < 0 or not math.isfinite(f.balance_weight):
        bad("feeders.balance_weight", "feeders.balance_weight must be a finite number >= 0")
    if y.plan and not y.projections:
        bad("years.plan", "years.plan needs years.projections (the projections CSV)")
    if len(set(y.plan)) != len(y.plan):
        bad("years.plan", f"years.plan lists a year twice: {list(y.plan)}")
    if not y.series:
        bad("years.series", "years.series must name at least one series, e.g. ['mid']")
    if y.balance_year != "mean" and y.plan and y.balance_year not in y.plan:
        bad("years.balance_year",
            f"years.balance_year = {y.balance_year} is not one of years.plan {list(y.plan)}")
    if t.grandfather_grades and not t.start_year:
        bad("transition.grandfather_grades",
            "transition.grandfather_grades needs transition.start_year (the first year of the new zones)")
    if any(g < 0 or g > t.top_grade for g in t.grandfather_grades):
        bad("transition.grandfather_grades",
            f"transition.grandfather_grades must be grades 0..top_grade ({t.top_grade})")
    for key, value in dataclasses.asdict(s.columns).items():
        if key != "schools_where" and not str(value).strip():
            bad(f"columns.{key}", f"columns.{key} cannot be empty: name the column of your file "
                "(or leave the key out for the contract's name)")
    if r.suppress_below < 0:
        bad("report.suppress_below", "report.suppress_below cannot be negative (0: no suppression)")


def load_scenario(path: str | os.PathLike | None) -> Scenario:
    """A scenario from a TOML file, or the defaults when ``path`` is None."""
    return Scenario() if path is None else Scenario.from_toml(path)
