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

    ``years.csv`` of the output folder (school, year, series: today's zones and proposed) when it
    is already written; the summary's ``years`` figures (per plan year) in any case.
    """
    out = []
    path = Path(folder) / "years.csv"
    if path.exists():
        out.append(("Enrollment by year, today's zones and proposed", pd.read_csv(path)))
    years = (plan.summary or {}).get("years")
    if isinstance(years, dict) and years:
        rows = [{"year": k, **v} if isinstance(v, dict) else {"year": k, "value": v}
                for k, v in years.items()]
        out.append(("The plan year by year", pd.DataFrame(rows)))
    elif isinstance(years, list) and years and all(isinstance(v, dict) for v in years):
        out.append(("The plan year by year", pd.DataFrame(years)))
    return out
