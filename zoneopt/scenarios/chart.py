"""The frontier's chart (frontier.png, and inline SVG in frontier.html) and its files."""

from __future__ import annotations

import html
import io as _io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .compare import display, html_table, label


def _x_positions(values: Sequence[Any]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x for the chart; infinite values sit one step past the largest finite value."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric:
        return np.arange(len(values), dtype=float), [label(v) for v in values]
    x = np.array(values, dtype=float)
    finite = x[np.isfinite(x)]
    if finite.size == len(x):
        return x, None
    top = finite.max() if finite.size else 0.0
    span = (finite.max() - finite.min()) if finite.size > 1 else max(abs(top), 1.0)
    x = np.where(np.isinf(x), top + max(span * 0.25, 1e-9), x)
    return x, None


def frontier_figure(table: pd.DataFrame, key: str) -> Any:
    """The trade-off chart: balance against the varied value, with moved share and distance.

    Top panel: dissimilarity after (and the objective when it differs), its proven bound and
    today's value. Bottom panel: share of students moved and mean distance. Filled markers are
    proven within the gap; hollow ones are not (most often the time limit ran out); a cross marks
    a value with no plan, labelled with its status.
    """
    from matplotlib.figure import Figure

    values = list(table["value"])
    x, labels = _x_positions(values)
    ok = table["dissimilarity_after"].notna().to_numpy() if "dissimilarity_after" in table else (
        np.zeros(len(table), bool))
    unproven = (table["status"] != "optimal").to_numpy()
    sort = np.argsort(x, kind="stable")

    fig = Figure(figsize=(7.5, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)

    def series(column: str) -> np.ndarray:
        if column not in table:
            return np.full(len(table), np.nan)
        return pd.to_numeric(table[column], errors="coerce").to_numpy(float)

    def draw(ax, y, color, label, marker="o"):
        good = sort[ok[sort]]
        ax.plot(x[good], y[good], "-", color=color, label=label)
        proven = good[~unproven[good]]
        hit = good[unproven[good]]
        ax.plot(x[proven], y[proven], marker, color=color, linestyle="none")
        ax.plot(x[hit], y[hit], marker, color=color, markerfacecolor="white", linestyle="none",
                markersize=8)

    d_after = series("dissimilarity_after")
    objective = series("objective")
    draw(top, d_after, "tab:blue", "dissimilarity after")
    if np.nanmax(np.abs(objective - d_after), initial=0.0) > 1e-9:
        draw(top, objective, "tab:purple", "objective", marker="D")
    bound = series("bound")
    good = sort[ok[sort]]
    top.plot(x[good], bound[good], "--", color="tab:gray", label="proven bound (objective)")
    before = series("dissimilarity_before")
    if np.isfinite(before).any():
        top.axhline(np.nanmax(before), color="tab:red", linestyle=":", label="dissimilarity today")
    failed = ~ok
    if failed.any():
        top.plot(x[failed], np.zeros(failed.sum()), "x", color="black", markersize=10,
                 linestyle="none", label="no plan", clip_on=False)
        for xi, status in zip(x[failed], table["status"][failed], strict=True):
            top.annotate(str(status).replace("_", " "), (xi, 0), xytext=(0, 8),
                         textcoords="offset points", ha="center", fontsize=7, rotation=90,
                         va="bottom")
    # The axis names what it plots: the objective (and its bound) join D when they differ.
    top.set_ylabel("dissimilarity index (0 to 1)" if np.nanmax(np.abs(objective - d_after),
                   initial=0.0) <= 1e-9 else "dissimilarity index (0 to 1) and objective")
    top.set_ylim(bottom=0)
    top.legend(fontsize=8, loc="best")
    top.set_title(f"Trade-off as {key} varies" + ("  (hollow: not proven, e.g. time limit)"
                                                  if unproven[ok].any() else ""), fontsize=10)

    moved = series("moved_share") * 100
    draw(bottom, moved, "tab:orange", "students moved (%)", marker="s")
    bottom.set_ylabel("students moved (%)", color="tab:orange")
    bottom.set_ylim(bottom=0)
    right = bottom.twinx()
    draw(right, series("mean_distance_km_after"), "tab:green", "mean distance (km)", marker="^")
    right.set_ylabel("mean distance to school (km)", color="tab:green")
    handles = bottom.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    bottom.legend(handles=handles, fontsize=8, loc="best")
    bottom.set_xlabel(key)
    if labels is not None:
        bottom.set_xticks(x, labels)
    else:
        ticks = list(x)
        names = [display(v) for v in values]
        bottom.set_xticks(ticks, names)
    return fig


def _figure_bytes(fig: Any, fmt: str) -> bytes:
    buffer = _io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    return buffer.getvalue()


def frontier_html(table: pd.DataFrame, key: str, *, svg: str | None = None) -> str:
    """A self-contained HTML page of the frontier: the chart as inline SVG and the table."""
    if svg is None:
        svg = _figure_bytes(frontier_figure(table, key), "svg").decode("utf-8")
    svg = svg[svg.find("<svg"):]  # drop the XML prolog and doctype: inline SVG needs neither
    shown = ["value", "status", "objective", "bound", "gap", "dissimilarity_before",
             "dissimilarity_after", "moved_share", "students_moved", "mean_distance_km_after",
             "max_utilization_after", "solve_seconds", "time_limited", "improved_from", "diagnosis"]
    view = table[[c for c in shown if c in table]]
    notes = []
    if table["time_limited"].astype(bool).any():
        notes.append("Rows marked time-limited stopped before proving their gap: their figures are "
                     "the best plan found in time, within the stated gap of the proven bound.")
    if table["improved_from"].notna().any():
        notes.append("Where improved_from is set, the plan of that tighter value satisfied this "
                     "value's rules and was better than what its own solve found, so it is used.")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>zoneopt frontier: {html.escape(key)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;text-align:right}tr:nth-child(even){background:#f4f4f4}</style>"
        f"</head><body><h1>Frontier: {html.escape(key)}</h1>"
        f"<figure>{svg}</figure>"
        + html_table(view.set_index("value"))
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes)
        + "</body></html>\n"
    )


def write_frontier_files(table: pd.DataFrame, key: str, out: str | os.PathLike) -> dict[str, Path]:
    """Write frontier.csv, frontier.png and frontier.html into ``out`` (each atomically)."""
    from .. import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = frontier_figure(table, key)
    svg = _figure_bytes(fig, "svg").decode("utf-8")
    return {
        "csv": io.write_csv(out / "frontier.csv", table),
        "png": io.write_bytes(out / "frontier.png", _figure_bytes(fig, "png")),
        "html": io.write_text(out / "frontier.html", frontier_html(table, key, svg=svg)),
    }
