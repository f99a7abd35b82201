"""The desk's files in a plan's output folder: public.html, report.pdf, addresses.csv."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io

__all__ = ["write_desk_outputs"]


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
        More ``(heading, table)`` pairs for report.pdf. A ``years.csv`` already in ``folder``
        (``[years] plan``) is added as the per-year table.

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
        years = folder / "years.csv"
        if years.exists():
            tables.append(("Enrollment by year, today's zones and proposed", pd.read_csv(years)))
        path = folder / "report.pdf"
        path.write_bytes(report_pdf(plan, extra_tables=tables))  # folder is moved in whole
        written.append(path)
    return written
