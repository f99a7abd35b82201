"""The demo's enrollment projection, from the census age structure of the shipped tracts.

The Sacramento tract file (Census 2000 SF3) has no single-year ages, no births and no enrollment
history, so the cohort-survival projector (:mod:`zoneopt.census.project`) has nothing to compute
ratios from. The demo's projection uses the same cohort logic with what the file does give:

- **Today** (labelled school year 2026; the counts are the demo's ``students``): each tract's students
  spread evenly over grades K-5 (largest remainder), as the demo assumes ages 5-10 are even.
- **Kindergartners of the next five years** are today's children under 5. The file has no under-5
  count, so it is estimated twice and the two are averaged: (a) 5/16 of the tract's children under
  16 (``POP_16``, ages spread evenly, as for the students), and (b) the tract's women aged 16 to 64
  (``FEM1664``) times the county's child-woman ratio (children under 5 per woman 16-64), i.e. the
  same fertility everywhere while where the mothers live varies. Estimate (b) alone swings too far
  in tracts of students or retirees, (a) alone would keep every tract flat; their mean moves
  kindergartners towards tracts with many young women. One fifth of the under-5s enter kindergarten
  each year; after five years births continue at the same level.
- **Series**: every cohort changes by the net migration of children, per year: -0.5% (``low``),
  0 (``mid``) and +0.5% (``high``). Grade g in year 2026 + k is the cohort's starting size times
  ``(1 + m) ** k``.
- **Low-income students** keep each tract's share of today.

So the county's total stays about the same in the mid series, but it moves: tracts with many young
women and few children (new suburbs, young renters) gain kindergartners, tracts of older families
lose them. These are illustrative figures for a demo, not a forecast.

Regenerate the shipped file with ``python -m zoneopt.census.demo_projection`` (a test checks that it
equals the derivation).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

BASE_YEAR = 2026
PLAN_YEARS = (2027, 2028, 2029, 2030, 2031)
MIGRATION = {"low": -0.005, "mid": 0.0, "high": 0.005}
TOP_GRADE = 5


def projections_path() -> Path:
    """Path of the shipped demo projections CSV."""
    return Path(str(resources.files("zoneopt") / "data" / "demo_years" / "projections.csv"))


def even_grades(students: np.ndarray, grades: int) -> np.ndarray:
    """``(n, grades)`` whole students per grade, as even as possible (largest remainder, low grades
    first)."""
    base = students // grades
    extra = students - base * grades
    out = np.repeat(base[:, None], grades, axis=1)
    out += np.arange(grades)[None, :] < extra[:, None]
    return out


def age_structure_projection(
    units: pd.DataFrame,
    under5: np.ndarray,
    *,
    base_year: int = BASE_YEAR,
    years: tuple[int, ...] = PLAN_YEARS,
    migration: dict[str, float] | None = None,
    top_grade: int = TOP_GRADE,
) -> pd.DataFrame:
    """Cohorts from today's grades and today's under-5s, aged forward year by year.

    Parameters
    ----------
    units
        ``unit_id``, ``students``, ``low_income`` of today.
    under5
        Children under 5 per unit (today's kindergartners of the next five years).
    base_year, years
        Today's year and the years to project.
    migration
        Net migration of children per year and series (default :data:`MIGRATION`).
    top_grade
        The schools' last grade.

    Returns
    -------
    pandas.DataFrame
        ``unit_id,year,series,grade,students,low_income`` for the base year and ``years``.
    """
    migration = migration or MIGRATION
    grades = top_grade + 1
    students = units["students"].to_numpy(np.int64)
    low = units["low_income"].to_numpy(np.int64)
    share = np.divide(low, students, out=np.zeros(len(students)), where=students > 0)
    today = even_grades(students, grades).astype(float)
    entering = np.asarray(under5, dtype=float) / 5.0
    ids = units["unit_id"].astype(str).to_numpy()
    parts = []
    for series, m in migration.items():
        for year in (base_year, *years):
            k = year - base_year
            grid = np.empty_like(today)
            for g in range(grades):
                start = today[:, g - k] if g >= k else entering
                grid[:, g] = start * (1.0 + m) ** k
            st = np.rint(grid).astype(np.int64) if k else today.astype(np.int64)
            lo = np.minimum(np.rint(st * share[:, None]).astype(np.int64), st)
            parts.append(pd.DataFrame({
                "unit_id": np.repeat(ids, grades), "year": year, "series": series,
                "grade": np.tile(np.arange(grades), len(ids)),
                "students": st.ravel(), "low_income": lo.ravel(),
            }))
    return pd.concat(parts, ignore_index=True)


def demo_under5(units: pd.DataFrame) -> np.ndarray:
    """Each demo tract's children under 5: the mean of two estimates (see the module docstring)."""
    from ..demo import tracts_path

    tracts = gpd.read_file(tracts_path(), ignore_geometry=True)
    tracts = tracts.set_index(tracts["FIPS"].astype(str))
    t = tracts.loc[units["unit_id"].astype(str)]
    women = t["FEM1664"].to_numpy(float)
    own = t["POP_16"].to_numpy(float) * 5.0 / 16.0
    by_women = women * own.sum() / women.sum()
    return 0.5 * (own + by_women)


def demo_projections(units: pd.DataFrame) -> pd.DataFrame:
    """The demo's projections for its units (see the module docstring)."""
    return age_structure_projection(units, demo_under5(units))


def planned_additions(units: pd.DataFrame, schools: pd.DataFrame, seats: int = 50) -> pd.DataFrame:
    """The demo's planned additions: ``capacity_YYYY`` for schools whose own tract outgrows them.

    A school's home tract always attends it, so a school whose home tract alone will hold more
    students than its seats in some plan year and series (of :func:`demo_projections`) gets an
    addition of ``seats`` seats (rounded up to whole additions) from the first such year on, as a
    district would build portables or a wing; without it no plan could fit that year. Returns a
    copy of ``schools`` (WGS84 points) with the ``capacity_YYYY`` columns, none when no tract
    outgrows its school.
    """
    import geopandas as gpd

    proj = demo_projections(units)
    proj = proj[proj["year"].isin(PLAN_YEARS)]
    load = proj.groupby(["unit_id", "year", "series"])["students"].sum().groupby(
        ["unit_id", "year"]).max()
    tracts = gpd.GeoDataFrame(units[["unit_id"]], geometry=units.geometry, crs=units.crs)
    points = gpd.GeoDataFrame(schools[["school_id"]], geometry=schools.geometry,
                              crs=schools.crs).to_crs(tracts.crs)
    home = gpd.sjoin(points, tracts, predicate="within", how="left")
    out = schools.copy()
    for row, (_, school) in zip(home.itertuples(), out.iterrows(), strict=True):
        uid = getattr(row, "unit_id", None)
        if uid is None or uid not in load.index.get_level_values(0):
            continue
        cap = int(school["capacity"])
        for year, students in load.loc[uid].items():
            if students > cap:
                cap += seats * int(np.ceil((students - cap) / seats))
                col = f"capacity_{int(year)}"
                if col not in out.columns:
                    out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
                out.loc[school.name, col] = cap
    return out


#: In the plan years the demo lets a school run up to this share of its permanent seats, as a
#: district does with portable classrooms: with the demo's coarse tracts (1.7 per school) no
#: contiguous plan keeps every school within 100% in every year and series.
YEARS_MAX_UTILIZATION = 1.05


def demo_years_scenario() -> dict:
    """What the demo's scenario changes to plan for years: ``[years]`` and the portables' limit."""
    return {"years": {"projections": str(projections_path()), "plan": list(PLAN_YEARS),
                      "series": ["mid", "low", "high"]},
            "constraints": {"max_utilization": YEARS_MAX_UTILIZATION}}


def main() -> None:
    """Write the shipped demo projections file from the demo's units."""
    from ..demo import demo_frames
    from ..io import write_csv

    units, _ = demo_frames()
    path = write_csv(projections_path(), demo_projections(units))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
