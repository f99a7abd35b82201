"""The desk's files in a plan's output folder: public.html, report.pdf, addresses.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io

__all__ = ["write_desk_outputs", "years_tables"]


def write_desk_outputs(
    plan: Any, folder: str | Path, *, extra_tables: Sequence[tuple[str, pd.DataFrame]] = ()
) -> list[Path]:
    """Write public.html, report.pdf (``[report] pdf``) and addresses.csv (``[report] addresses``).

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` with an assignment.
    folder
        The output folder (``Plan.save`` passes its temporary folder, moved into place whole).
    extra_tables
        More ``(heading, table)`` pairs for report.pdf; the per-year tables of
        :func:`years_tables` follow them.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from .addresses import addresses_table, read_addresses
    from .pdf import report_pdf
    from .public import public_html

    folder = Path(folder)
    r = plan.scenario.report
    addresses = read_addresses(r.addresses) if r.addresses else None
    written = [io.write_text(folder / "public.html", public_html(plan, addresses))]
    if addresses is not None:
        written.append(io.write_csv(folder / "addresses.csv", addresses_table(plan, addresses)))
    if r.pdf:
        tables = list(extra_tables)
        tables.extend(years_tables(plan, folder))
        path = folder / "report.pdf"
        path.write_bytes(report_pdf(plan, extra_tables=tables))  # folder is moved in whole
        written.append(path)
    return written


def years_tables(plan: Any, folder: str | Path) -> list[tuple[str, pd.DataFrame]]:
    """The per-year tables for report.pdf when years are planned (``[years] plan``).

    The proposed zones' enrollment and capacity use per school and plan year (first series), from
    the years table (``zoneopt.years.years_table`` where this version has it, else a ``years.csv``
    already in ``folder``); and the summary's ``years`` figures (the district, year by year).
    Counts follow ``[report] suppress_below``.
    """
    out = []
    below = plan.scenario.report.suppress_below
    frame = _years_frame(plan, Path(folder))
    if frame is not None and len(frame):
        heading, table = _per_school_by_year(plan, frame, below)
        out.append((heading, table))
    years = (plan.summary or {}).get("years")
    if isinstance(years, dict) and years:
        rows = []
        for year, entry in years.items():
            row = {"year": year}
            if isinstance(entry, dict):
                row.update({k: v for k, v in entry.items() if not isinstance(v, dict | list)})
            rows.append(row)
        out.append(("The district year by year", pd.DataFrame(rows)))
    return out


def _years_frame(plan: Any, folder: Path) -> pd.DataFrame | None:
    try:
        from ..years import years_active, years_table
    except ImportError:  # a version without [years]
        years_active = years_table = None
    if years_active is not None and years_active(plan.scenario):
        return years_table(plan)
    path = folder / "years.csv"  # written by other means
    return pd.read_csv(path) if path.exists() else None


def _per_school_by_year(plan: Any, frame: pd.DataFrame, below: int) -> tuple[str, pd.DataFrame]:
    """One row per school, an enrollment and a capacity-use column per plan year."""
    from . import suppress

    f = frame
    if "plan" in f.columns:
        f = f[f["plan"].astype(str) == "proposed"]
    series = None
    if "series" in f.columns and len(f):
        series = str(f["series"].iloc[0])
        f = f[f["series"].astype(str) == series]
    names = dict(zip(plan.district.school_ids, plan.district.schools["name"], strict=True))
    years = sorted(f["year"].unique().tolist())
    rows = []
    for sid, group in f.groupby("school_id", sort=False):
        row = {"School": str(names.get(str(sid), sid))}
        by_year = group.set_index("year")
        for y in years:
            enr = by_year["enrollment"].get(y) if y in by_year.index else None
            use = by_year["utilization"].get(y) if y in by_year.index else None
            row[f"{y} enrolled"] = suppress.count_text(enr, below)
            row[f"{y} use"] = (suppress.HIDDEN if suppress.is_small(enr, below) or use is None
                               else f"{100 * float(use):.0f}%")
        rows.append(row)
    heading = "Enrollment and capacity use by year, proposed zones" + (
        f" (series {series})" if series else "")
    return heading, pd.DataFrame(rows)
