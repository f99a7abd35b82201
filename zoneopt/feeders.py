"""The second level as data: middle schools, the units' middle-school counts, feeder patterns.

An elementary school *feeds* the middle schools its students go on to. With ``[feeders] mode =
"report"`` the middle zones stay as they are today and zoneopt reports how the plan's elementary zones
feed them; with ``mode = "nested"`` the middle zones are chosen with the elementary zones, each
elementary zone feeding exactly one middle school (see :mod:`zoneopt.model.feeders`).

Definitions (CONTRACT.md, Additions):

- A unit's **middle school today**: ``current_middle_school`` where given, else the nearest middle
  school (straight line between the unit's centroid and the school, in the district's UTM CRS).
- A unit's **middle school in a plan**: in ``report`` mode today's; in ``nested`` mode the middle school
  its elementary school feeds (the plan's feeder map).
- A **split feeder**: an elementary school whose students (units with students) go to more than one
  middle school.
- **Middle dissimilarity**: the dissimilarity index over middle schools of ``middle_low_income``
  versus the other ``middle_students``.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import connected_components

from . import io
from .district import District
from .errors import ZoneoptInputError
from .scenario import Scenario
from .validate import school_outside_error, validate_schools

#: Units columns of the second level (CONTRACT.md, Additions).
MIDDLE_STUDENTS = "middle_students"
MIDDLE_LOW_INCOME = "middle_low_income"
CURRENT_MIDDLE = "current_middle_school"

FEEDER_COLUMNS = ["plan", "school_id", "middle_school_id", "students", "middle_students"]


@dataclass(frozen=True, eq=False)
class FeederData:
    """The middle schools of a district and the units' middle-school counts.

    Attributes
    ----------
    schools : geopandas.GeoDataFrame
        Validated middle schools in the district's CRS (``school_id``, ``name``, ``capacity``).
    students, low_income : numpy.ndarray
        ``middle_students`` and ``middle_low_income`` per unit (int64).
    status_quo : numpy.ndarray
        Today's middle school (position) of each unit.
    home_unit : numpy.ndarray
        Position of the unit holding each middle school.
    home_owner : numpy.ndarray
        The middle school each home unit is assigned to (itself unless several share one unit).
    islands : numpy.ndarray
        Units in a part of the adjacency graph that holds no middle school (exempt from contiguity).
    source : str
        The middle schools file.
    """

    schools: gpd.GeoDataFrame
    students: np.ndarray
    low_income: np.ndarray
    status_quo: np.ndarray
    home_unit: np.ndarray
    home_owner: np.ndarray
    islands: np.ndarray
    source: str

    @property
    def n_schools(self) -> int:
        """Number of middle schools."""
        return len(self.schools)

    @cached_property
    def school_ids(self) -> np.ndarray:
        """Middle school ids by position."""
        return self.schools["school_id"].to_numpy(dtype=object)

    @cached_property
    def capacity(self) -> np.ndarray:
        """Middle school capacities (int64)."""
        return self.schools["capacity"].to_numpy(dtype=np.int64)

    @cached_property
    def school_index(self) -> dict[str, int]:
        """Middle school id -> position."""
        return {sid: k for k, sid in enumerate(self.school_ids)}


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def load_feeders(district: District, scenario: Scenario) -> FeederData | None:
    """The middle schools of ``scenario.feeders`` for ``district`` (None when none are given).

    Read once per district and file (cached while the district lives).

    Raises
    ------
    ZoneoptInputError
        For a bad middle-schools file or bad middle columns of the units, naming the file, the row
        or id, the column and the fix.
    """
    path = scenario.feeders.middle_schools
    if not path:
        return None
    key = (str(path), _mtime(path))
    per = _CACHE.setdefault(district, {})
    if key not in per:
        per[key] = _load(district, str(path))
    return per[key]


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return -1.0


def _load(district: District, path: str) -> FeederData:
    frame = io.read_schools(path)
    schools = validate_schools(frame, source=path).to_crs(district.crs)
    ids = list(schools["school_id"])
    clash = sorted(set(ids) & set(district.school_ids))
    if clash:
        raise ZoneoptInputError(
            f"middle school id '{clash[0]}' is also an elementary school id; give the middle "
            "schools ids of their own (e.g. prefix them with M)",
            file=path, row=clash[0], column="school_id",
        )
    usrc = district.sources.get("units", "units")
    units = district.units
    students, low = _middle_counts(units, usrc)
    index = {sid: k for k, sid in enumerate(ids)}
    current = _current_middle(units, index, usrc, path)
    home = _home_units(district, schools, path)
    owner = np.arange(len(home))
    for h in np.unique(home):
        sharing = np.flatnonzero(home == h)
        owner[sharing] = sharing[0]  # several middle schools in one unit: the first holds it
    c = shapely.get_coordinates(shapely.centroid(units.geometry.to_numpy()))
    s = shapely.get_coordinates(schools.geometry.to_numpy())
    nearest = np.argmin(((c[:, None, :] - s[None, :, :]) ** 2).sum(axis=2), axis=1)
    sq = np.where(current >= 0, current, nearest).astype(np.int64)
    _, comp = connected_components(district.adjacency, directed=False)
    islands = ~np.isin(comp, np.unique(comp[home]))
    for arr in (students, low, sq, home, owner, islands):
        arr.setflags(write=False)
    return FeederData(schools, students, low, sq, home, owner, islands, path)


def _middle_counts(units: pd.DataFrame, source: str) -> tuple[np.ndarray, np.ndarray]:
    if MIDDLE_STUDENTS not in units.columns:
        raise ZoneoptInputError(
            f"[feeders] middle_schools is set, so the units need a '{MIDDLE_STUDENTS}' column "
            "(students of middle-school age living in the unit, a whole number >= 0)",
            file=source, column=MIDDLE_STUDENTS,
        )
    ids = units["unit_id"].to_numpy(dtype=object)
    students = _counts(units[MIDDLE_STUDENTS], ids, source, MIDDLE_STUDENTS)
    if MIDDLE_LOW_INCOME in units.columns:
        low = _counts(units[MIDDLE_LOW_INCOME], ids, source, MIDDLE_LOW_INCOME)
        over = np.flatnonzero(low > students)
        if len(over):
            i = int(over[0])
            raise ZoneoptInputError(
                f"{MIDDLE_LOW_INCOME} ({low[i]}) is greater than {MIDDLE_STUDENTS} ({students[i]}); "
                f"it counts middle-school students, so it must be between 0 and {MIDDLE_STUDENTS}",
                file=source, row=ids[i], column=MIDDLE_LOW_INCOME,
            )
    else:
        low = np.zeros(len(units), dtype=np.int64)
    return students, low


def _counts(raw: pd.Series, ids: np.ndarray, source: str, column: str) -> np.ndarray:
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    for i, v in enumerate(values):
        shown = raw.iloc[i]
        if not math.isfinite(v):
            what = "is empty" if _null(shown) else f"'{shown}' is not a number"
            raise ZoneoptInputError(f"{what}; {column} must be a whole number (0 or more)",
                                    file=source, row=ids[i], column=column)
        if abs(v - round(v)) > 1e-6:
            raise ZoneoptInputError(f"{v:g} is not a whole number; {column} counts people, round it",
                                    file=source, row=ids[i], column=column)
        if v < 0:
            raise ZoneoptInputError(f"{v:g} is not allowed; {column} must be 0 or more",
                                    file=source, row=ids[i], column=column)
    return np.round(values).astype(np.int64)


def _null(value: Any) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def _current_middle(units: pd.DataFrame, index: dict[str, int], source: str, mpath: str) -> np.ndarray:
    out = np.full(len(units), -1, dtype=np.int64)
    if CURRENT_MIDDLE not in units.columns:
        return out
    for i, (uid, v) in enumerate(zip(units["unit_id"], units[CURRENT_MIDDLE], strict=True)):
        if _null(v):
            continue
        text = str(v).strip()
        if text.endswith(".0") and text[:-2] in index:  # a numeric id read as a float
            text = text[:-2]
        if text not in index:
            import difflib

            near = difflib.get_close_matches(text, sorted(index), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise ZoneoptInputError(
                f"{CURRENT_MIDDLE} '{text}' is not a school_id of the middle schools file "
                f"{mpath}{hint}; fix the id or leave it empty",
                file=source, row=uid, column=CURRENT_MIDDLE,
            )
        out[i] = index[text]
    return out


def _home_units(district: District, schools: gpd.GeoDataFrame, source: str) -> np.ndarray:
    tree = shapely.STRtree(district.units.geometry.to_numpy())
    k_idx, u_idx = tree.query(schools.geometry.to_numpy(), predicate="intersects")
    home = np.full(len(schools), -1, dtype=np.int64)
    for k, i in sorted(zip(k_idx.tolist(), u_idx.tolist(), strict=True), reverse=True):
        home[k] = i  # on a shared boundary the lowest unit position wins, as for elementary schools
    if (home < 0).any():
        raise school_outside_error(district.units, schools, int(np.flatnonzero(home < 0)[0]),
                                   source=source)
    return home


# ------------------------------------------------------------------------------------ figures


def middle_assignment(district: District, data: FeederData, positions: np.ndarray,
                      feeds: np.ndarray | None) -> np.ndarray:
    """The middle school (position) of each unit: through the feeder map, else today's."""
    if feeds is None:
        return np.asarray(data.status_quo, dtype=np.int64)
    return np.asarray(feeds, dtype=np.int64)[np.asarray(positions, dtype=np.int64)]


def feeder_pairs(elem: np.ndarray, middle: np.ndarray, weights: np.ndarray) -> dict[tuple[int, int], float]:
    """Students per (elementary school, middle school) pair, pairs with students only."""
    out: dict[tuple[int, int], float] = {}
    for j, k, w in zip(elem.tolist(), middle.tolist(), weights.tolist(), strict=True):
        if w > 0:
            out[(j, k)] = out.get((j, k), 0.0) + w
    return out


def split_feeders(elem: np.ndarray, middle: np.ndarray, students: np.ndarray) -> list[int]:
    """Elementary schools (positions) whose students go to more than one middle school."""
    seen: dict[int, set[int]] = {}
    for (j, k) in feeder_pairs(elem, middle, students):
        seen.setdefault(j, set()).add(k)
    return sorted(j for j, ks in seen.items() if len(ks) > 1)


def dissimilarity(middle: np.ndarray, students: np.ndarray, low: np.ndarray, k: int) -> float:
    """Dissimilarity index over middle schools (0 when nothing to balance)."""
    lo = np.bincount(middle, weights=low, minlength=k)
    other = np.bincount(middle, weights=students - low, minlength=k)
    big_l, big_n = lo.sum(), other.sum()
    if big_l == 0 or big_n == 0:
        return 0.0
    return float(0.5 * np.abs(lo / big_l - other / big_n).sum())


def objective_term(district: District, scenario: Scenario, positions: np.ndarray,
                   feeds: np.ndarray | None) -> float:
    """What the second level adds to the objective: ``balance_weight`` x middle D (nested only)."""
    if scenario.feeders.mode != "nested" or feeds is None:
        return 0.0
    data = load_feeders(district, scenario)
    mid = middle_assignment(district, data, positions, feeds)
    return scenario.feeders.balance_weight * dissimilarity(
        mid, data.students.astype(float), data.low_income.astype(float), data.n_schools)


def feeder_figures(district: District, scenario: Scenario, positions: np.ndarray,
                   feeds: np.ndarray | None) -> dict[str, Any]:
    """The summary.json keys of the second level (empty when no middle schools are given)."""
    data = load_feeders(district, scenario) if scenario.feeders.mode != "none" else None
    if data is None:
        return {}
    mid_b = data.status_quo
    mid_a = middle_assignment(district, data, positions, feeds)
    s, low, k = data.students.astype(float), data.low_income.astype(float), data.n_schools
    enr = np.bincount(mid_a, weights=s, minlength=k)
    elem_s = district.students.astype(float)
    out: dict[str, Any] = {
        "middle_dissimilarity_before": dissimilarity(mid_b, s, low, k),
        "middle_dissimilarity_after": dissimilarity(mid_a, s, low, k),
        "split_feeders_before": len(split_feeders(district.status_quo, mid_b, elem_s)),
        "split_feeders_after": len(split_feeders(positions, mid_a, elem_s)),
        "middle_max_utilization_after": float(np.max(enr / data.capacity)),
        "n_middle_schools": k,
    }
    if feeds is not None:
        out["feeder_map"] = {str(district.school_ids[j]): str(data.school_ids[feeds[j]])
                             for j in range(district.n_schools)}
    return out


def feeders_table(district: District, scenario: Scenario, positions: np.ndarray,
                  feeds: np.ndarray | None) -> pd.DataFrame:
    """``feeders.csv``: students per (elementary, middle) pair, today and proposed.

    ``students`` counts the elementary students of the pair's units (who will go on to that middle
    school), ``middle_students`` the middle-school students living there.
    """
    data = load_feeders(district, scenario)
    rows = []
    for label, elem, mid in (
        ("today", district.status_quo, data.status_quo),
        ("proposed", positions, middle_assignment(district, data, positions, feeds)),
    ):
        es = feeder_pairs(elem, mid, district.students.astype(float))
        ms = feeder_pairs(elem, mid, data.students.astype(float))
        both = set(feeder_pairs(elem, mid, np.ones(district.n_units)))
        for (j, k) in sorted(both):
            if (j, k) not in es and (j, k) not in ms:
                continue
            rows.append({
                "plan": label, "school_id": district.school_ids[j],
                "middle_school_id": data.school_ids[k],
                "students": int(round(es.get((j, k), 0.0))),
                "middle_students": int(round(ms.get((j, k), 0.0))),
            })
    return pd.DataFrame(rows, columns=FEEDER_COLUMNS)


def middle_schools_table(district: District, scenario: Scenario, positions: np.ndarray,
                         feeds: np.ndarray | None) -> pd.DataFrame:
    """``middle_schools.csv``: per middle school, the columns of ``schools.csv`` before and after."""
    from .plan import SCHOOL_COLUMNS

    data = load_feeders(district, scenario)
    k = data.n_schools
    s, low = data.students.astype(float), data.low_income.astype(float)
    before = np.asarray(data.status_quo)
    after = middle_assignment(district, data, positions, feeds)
    dist = _middle_distances_km(district, data)
    cap = data.capacity.astype(float)

    def per(assign, w):
        return np.bincount(assign, weights=w, minlength=k)

    enr_b, enr_a = per(before, s), per(after, s)
    low_b, low_a = per(before, low), per(after, low)
    km_b = per(before, s * dist[np.arange(len(s)), before])
    km_a = per(after, s * dist[np.arange(len(s)), after])
    moved = after != before
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame({
            "school_id": data.school_ids,
            "name": data.schools["name"].to_numpy(dtype=object),
            "capacity": data.capacity,
            "enrollment_before": enr_b.astype(np.int64),
            "enrollment_after": enr_a.astype(np.int64),
            "utilization_before": enr_b / cap,
            "utilization_after": enr_a / cap,
            "low_income_before": low_b.astype(np.int64),
            "low_income_after": low_a.astype(np.int64),
            "low_income_share_before": np.where(enr_b > 0, low_b / np.where(enr_b > 0, enr_b, 1), np.nan),
            "low_income_share_after": np.where(enr_a > 0, low_a / np.where(enr_a > 0, enr_a, 1), np.nan),
            "mean_distance_km_before": np.where(enr_b > 0, km_b / np.where(enr_b > 0, enr_b, 1), np.nan),
            "mean_distance_km_after": np.where(enr_a > 0, km_a / np.where(enr_a > 0, enr_a, 1), np.nan),
            "students_gained": per(after[moved], s[moved]).astype(np.int64),
            "students_lost": per(before[moved], s[moved]).astype(np.int64),
        })
    return table[SCHOOL_COLUMNS]


def _middle_distances_km(district: District, data: FeederData) -> np.ndarray:
    c = shapely.get_coordinates(shapely.centroid(district.units.geometry.to_numpy()))
    s = shapely.get_coordinates(data.schools.geometry.to_numpy())
    return np.sqrt(((c[:, None, :] - s[None, :, :]) ** 2).sum(axis=2)) / 1000.0


def middle_zones(district: District, scenario: Scenario, positions: np.ndarray,
                 feeds: np.ndarray | None) -> gpd.GeoDataFrame:
    """``middle_zones.geojson``: one dissolved zone per middle school (WGS84) with its figures."""
    data = load_feeders(district, scenario)
    after = middle_assignment(district, data, positions, feeds)
    units = district.units[["geometry"]].copy()
    units["school_id"] = data.school_ids[after]
    zones = units.dissolve(by="school_id", sort=False).reset_index()
    order = [sid for sid in data.school_ids if sid in set(zones["school_id"])]
    zones = zones.set_index("school_id").loc[order].reset_index()
    table = middle_schools_table(district, scenario, positions, feeds).set_index("school_id")
    feeders_of: dict[str, list[str]] = {}
    for j in range(district.n_schools):
        ks = set(after[positions == j].tolist())
        for k in ks:
            feeders_of.setdefault(str(data.school_ids[k]), []).append(str(district.school_ids[j]))
    out = gpd.GeoDataFrame({
        "school_id": zones["school_id"],
        "name": table.loc[zones["school_id"], "name"].to_numpy(),
        "enrollment": table.loc[zones["school_id"], "enrollment_after"].to_numpy(),
        "capacity": table.loc[zones["school_id"], "capacity"].to_numpy(),
        "utilization": table.loc[zones["school_id"], "utilization_after"].to_numpy(),
        "low_income_share": table.loc[zones["school_id"], "low_income_share_after"].to_numpy(),
        "feeders": [", ".join(feeders_of.get(str(s), [])) for s in zones["school_id"]],
    }, geometry=zones.geometry.to_numpy(), crs=district.crs)
    return out.to_crs("EPSG:4326")


def plan_feeds(plan: Any) -> np.ndarray | None:
    """A plan's feeder map: ``plan.feeds``, else from its summary's ``feeder_map`` (e.g. a plan
    rebuilt from a summary by the frontier or a batch worker), else None."""
    feeds = getattr(plan, "feeds", None)
    if feeds is not None:
        return np.asarray(feeds, dtype=np.int64)
    fmap = (getattr(plan, "summary", None) or {}).get("feeder_map")
    if not fmap or plan.scenario.feeders.mode != "nested":
        return None
    data = load_feeders(plan.district, plan.scenario)
    return np.array([data.school_index[fmap[str(e)]] for e in plan.district.school_ids], dtype=np.int64)


def save_outputs(folder: Path, plan: Any) -> None:
    """Write feeders.csv, middle_schools.csv, middle_zones.geojson (feeders used) and
    neighbourhoods.csv (neighbourhoods given) into an output folder."""
    scenario = plan.scenario
    if plan.positions is None:
        return
    if scenario.constraints.neighbourhoods:
        from .neighbourhoods import neighbourhood_table

        io.write_csv(folder / "neighbourhoods.csv",
                     neighbourhood_table(plan.district, scenario, plan.positions))
    if scenario.feeders.mode == "none":
        return
    feeds = plan_feeds(plan)
    d = plan.district
    io.write_csv(folder / "feeders.csv", feeders_table(d, scenario, plan.positions, feeds))
    io.write_csv(folder / "middle_schools.csv",
                 middle_schools_table(d, scenario, plan.positions, feeds))
    io.write_text(folder / "middle_zones.geojson",
                  middle_zones(d, scenario, plan.positions, feeds).to_json(drop_id=True))


__all__ = [
    "FeederData", "load_feeders", "middle_assignment", "split_feeders", "feeder_figures",
    "feeders_table", "middle_schools_table", "middle_zones", "objective_term", "save_outputs",
]
