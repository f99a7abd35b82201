"""``report.pdf``: the board report laid out for print, on US letter paper.

Drawn with matplotlib (already a dependency; its PDF backend needs nothing outside pip and runs
without a browser or a display). Fonts are embedded as Type 3 subsets with ToUnicode maps, so the
text can be searched and copied (and read by ``pdftotext``); TrueType embedding reads the whole font
with fontTools and took four times as long. Pages: the title, the district summary and a static map of the
proposed zones; then the per-school table (as many pages as it needs); then any extra tables a
caller passes (the per-year table when years are planned); every page with the title and
"Page i of n". Counts follow ``[report] suppress_below``. Deterministic: no creation date.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..viz.maps import ZONE_PALETTE
from . import geometry, suppress

__all__ = ["report_pdf", "PAGE_SIZE_IN", "ROWS_PER_PAGE"]

#: US letter, portrait, in inches.
PAGE_SIZE_IN = (8.5, 11.0)
#: Table rows on one page (letter, 8 pt).
ROWS_PER_PAGE = 40

_SCHOOL_COLUMNS = (
    ("name", "School", "text"),
    ("capacity", "Capacity", "int"),
    ("enrollment_before", "Enrolled today", "count"),
    ("enrollment_after", "Enrolled proposed", "count"),
    ("utilization_after", "Use proposed", "pct0"),
    ("low_income_share_before", "Low-inc. today", "pct1"),
    ("low_income_share_after", "Low-inc. proposed", "pct1"),
    ("mean_distance_km_after", "Mean km proposed", "km"),
    ("students_gained", "Gained", "count"),
    ("students_lost", "Lost", "count"),
)


def _cell(value: Any, kind: str, below: int) -> str:
    if isinstance(value, str) and kind != "text":
        return "hidden" if value == suppress.HIDDEN else value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind == "text":
        return _fit(str(value), 34)
    if kind == "count":
        return suppress.count_text(value, below)
    if kind == "int":
        return f"{round(float(value)):,}"
    if kind == "pct0":
        return f"{100 * float(value):.0f}%"
    if kind == "pct1":
        return f"{100 * float(value):.1f}%"
    if kind == "km":
        return f"{float(value):.2f}"
    return str(value)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _pct(x: Any) -> str:
    return "–" if x is None else f"{100 * float(x):.1f}%"


def _km(x: Any) -> str:
    return "–" if x is None or not math.isfinite(float(x)) else f"{float(x):.2f} km"


def summary_lines(plan: Any, below: int) -> list[tuple[str, str, str]]:
    """The district summary as (figure, today, proposed) rows."""
    s = plan.summary
    moved = s.get("students_moved")
    moved_txt = suppress.count_text(moved, below)
    if moved is not None and not suppress.is_small(moved, below):
        moved_txt += f" ({_pct(s.get('moved_share'))})"
    return [
        ("Dissimilarity index (lower is more balanced)", _pct(s.get("dissimilarity_before")),
         _pct(s.get("dissimilarity_after"))),
        ("Largest gap of a school's low-income share", _pct(s.get("max_share_gap_before")),
         _pct(s.get("max_share_gap_after"))),
        ("Average distance from home to school", _km(s.get("mean_distance_km_before")),
         _km(s.get("mean_distance_km_after"))),
        ("Students who change school", "–", moved_txt),
        ("Fullest school (enrollment / capacity)", "–",
         "–" if s.get("max_utilization_after") is None
         else f"{100 * s['max_utilization_after']:.0f}%"),
        ("Every zone in one piece", "–", "yes" if s.get("contiguous") else "no"),
    ]


def _status_line(summary: dict) -> str:
    status = str(summary.get("status", ""))
    gap = summary.get("gap")
    if status == "optimal":
        return f"Result: optimal (proven within {100 * float(gap):.2f}% of the best possible plan)."
    if status == "feasible":
        gap_txt = "not proven" if gap is None else f"{100 * float(gap):.2f}%"
        return f"Result: feasible; the search ended with a proven gap of {gap_txt}."
    if status == "given":
        broken = summary.get("violations") or []
        return ("Result: a plan drawn by hand; "
                + (f"it breaks {len(broken)} rule(s)." if broken else "every rule holds."))
    return f"Result: {status}."


def report_pdf(
    plan: Any,
    *,
    extra_tables: Sequence[tuple[str, pd.DataFrame]] = (),
    suppress_below: int | None = None,
    title: str | None = None,
) -> bytes:
    """The bytes of report.pdf for a plan.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` with an assignment.
    extra_tables
        ``(heading, table)`` pairs printed after the per-school table, each on pages of its own
        (e.g. the per-year table of ``[years]``). Columns print as they are; counts below
        ``suppress_below`` are shown as "<N" in columns named ``students``, ``enrollment`` or
        ``*_students`` and shares named ``*_share`` next to them are hidden.
    suppress_below
        Counts below this are shown as "<N" (default: the plan's ``[report] suppress_below``).
    title
        Default: the plan's report title, else "Proposed attendance zones".

    Returns
    -------
    bytes
        A PDF of letter-size pages with the title and "Page i of n" on each.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    if plan.positions is None:
        raise ValueError("this plan has no assignment to print")
    below = plan.scenario.report.suppress_below if suppress_below is None else int(suppress_below)
    title = (title if title is not None else plan.title) or "Proposed attendance zones"
    table = suppress.mask_schools_table(plan.schools_table, below)
    school_rows = [[_cell(r[c], kind, below) for c, _, kind in _SCHOOL_COLUMNS]
                   for _, r in table.iterrows()]
    school_pages = _chunks(school_rows, ROWS_PER_PAGE)
    extra_pages = []
    for heading, frame in extra_tables:
        shown = _mask_extra(frame, below)
        rows = [[_extra_cell(v) for v in row] for row in shown.itertuples(index=False)]
        for k, chunk in enumerate(_chunks(rows, ROWS_PER_PAGE)):
            extra_pages.append((heading + (" (continued)" if k else ""), list(shown.columns), chunk))
    n_pages = 1 + len(school_pages) + len(extra_pages)

    buf = io.BytesIO()
    rc = {"pdf.fonttype": 3, "font.family": "DejaVu Sans", "font.size": 9,
          "svg.hashsalt": "zoneopt"}
    with plt.rc_context(rc), PdfPages(buf, metadata={"Title": title, "Creator": "zoneopt",
                                                     "CreationDate": None}) as pdf:
        fig = _page(plt, title, 1, n_pages)
        _first_page(fig, plan, below)
        pdf.savefig(fig)
        plt.close(fig)
        headers = [h for _, h, _ in _SCHOOL_COLUMNS]
        for k, chunk in enumerate(school_pages):
            fig = _page(plt, title, 2 + k, n_pages)
            heading = "Schools, today and proposed" + (" (continued)" if k else "")
            _table(fig, heading, headers, chunk, first_wide=True)
            if k == len(school_pages) - 1 and below:
                fig.text(0.07, 0.06, suppress.suppression_note(below), fontsize=7.5, wrap=True)
            pdf.savefig(fig)
            plt.close(fig)
        for k, (heading, headers_x, chunk) in enumerate(extra_pages):
            fig = _page(plt, title, 2 + len(school_pages) + k, n_pages)
            _table(fig, heading, headers_x, chunk, first_wide=False)
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()


def _chunks(rows: list, size: int) -> list[list]:
    return [rows[k:k + size] for k in range(0, len(rows), size)] or [[]]


def _page(plt: Any, title: str, number: int, total: int) -> Any:
    fig = plt.figure(figsize=PAGE_SIZE_IN)
    fig.text(0.07, 0.965, _fit(title, 90), fontsize=12, va="top")
    fig.text(0.93, 0.03, f"Page {number} of {total}", fontsize=8, ha="right")
    fig.text(0.07, 0.03, "zoneopt", fontsize=8, color="#555555")
    return fig


def _first_page(fig: Any, plan: Any, below: int) -> None:
    d = plan.district
    s = plan.summary
    fig.text(0.07, 0.935, f"{d.n_schools} schools, {d.n_units} planning areas. "
             + _status_line(s), fontsize=9, va="top")
    rows = summary_lines(plan, below)
    ax = fig.add_axes([0.07, 0.74, 0.86, 0.17])
    ax.axis("off")
    t = ax.table(cellText=[list(r) for r in rows], colLabels=["District summary", "Today", "Proposed"],
                 colWidths=[0.6, 0.2, 0.2], loc="upper left", cellLoc="left")
    _style_table(t, 9)
    ax_map = fig.add_axes([0.07, 0.08, 0.86, 0.63])
    _draw_map(ax_map, plan)
    note = suppress.suppression_note(below)
    if note:
        fig.text(0.07, 0.055, note, fontsize=7.5)


def _paths(geom: Any) -> list:
    """matplotlib paths of a (multi)polygon, holes included."""
    import shapely
    from matplotlib.path import Path

    out = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        verts, codes = [], []
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)[:, :2]
            verts.append(c)
            codes += [Path.MOVETO] + [Path.LINETO] * (len(c) - 2) + [Path.CLOSEPOLY]
        out.append(Path(np.concatenate(verts), codes))
    return out


def _draw_map(ax: Any, plan: Any) -> None:
    """Proposed zones filled by school (neighbours differ), zone outlines, schools as dots.

    Drawn as two path collections (geopandas' plot would render the whole figure once more).
    """
    import shapely
    from matplotlib.collections import PathCollection

    d = plan.district
    pos = np.asarray(plan.positions)
    colors = geometry.zone_colors(d.adjacency, [pos], d.n_schools, ZONE_PALETTE)
    geoms = d.units.geometry.values
    paths, faces = [], []
    for g, j in zip(geoms, pos.tolist(), strict=True):
        for path in _paths(g):
            paths.append(path)
            faces.append(colors[j])
    ax.add_collection(PathCollection(paths, facecolors=faces, edgecolors="white", linewidths=0.15))
    outlines = [p for j in np.unique(pos).tolist() for p in _paths(shapely.union_all(geoms[pos == j]))]
    ax.add_collection(PathCollection(outlines, facecolors="none", edgecolors="#111111",
                                     linewidths=0.8))
    xy = shapely.get_coordinates(d.schools.geometry.values)
    ax.scatter(xy[:, 0], xy[:, 1], s=6, color="black", zorder=3)
    minx, miny, maxx, maxy = d.units.total_bounds
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_title("Proposed attendance zones (black dots: schools)", fontsize=9, loc="left")
    ax.set_aspect("equal")
    ax.set_axis_off()


def _table(fig: Any, heading: str, headers: list[str], rows: list[list[str]], *,
           first_wide: bool) -> None:
    """A table as one line of monospaced text per row (fast to draw, and pdftotext reads each
    row back as a line); the first column left-aligned, the others right-aligned."""
    from matplotlib.patches import Rectangle

    fig.text(0.07, 0.93, heading, fontsize=10, va="top")
    if not rows:
        fig.text(0.07, 0.9, "(no rows)", fontsize=9, va="top")
        return
    head = [_wrap(h).split("\n") for h in headers]
    depth = max(len(h) for h in head)
    head = [[""] * (depth - len(h)) + h for h in head]
    widths = [max([len(x) for x in h] + [len(r[c]) for r in rows]) for c, h in enumerate(head)]
    if first_wide:
        widths[0] = max(widths[0], 12)
    total = sum(widths) + 2 * (len(widths) - 1)
    size = min(8.0, 0.86 * 8.5 * 72 / (0.6 * max(total, 1)))

    def line(cells: list[str]) -> str:
        out = []
        for c, (text, w) in enumerate(zip(cells, widths, strict=True)):
            out.append(text.ljust(w) if c == 0 and first_wide else text.rjust(w))
        return "  ".join(out)

    step = 0.0195 * size / 8.0
    y = 0.895
    for k in range(depth):
        fig.text(0.07, y, line([h[k] for h in head]), fontsize=size, family="DejaVu Sans Mono",
                 va="top", color="#333333")
        y -= step
    fig.add_artist(Rectangle((0.07, y + 0.3 * step), 0.86, 0.0008, transform=fig.transFigure,
                             color="#555555"))
    for k, row in enumerate(rows):
        if k % 2:
            fig.add_artist(Rectangle((0.065, y - 0.85 * step), 0.87, step,
                                     transform=fig.transFigure, color="#f0f0f0", zorder=0))
        fig.text(0.07, y, line(row), fontsize=size, family="DejaVu Sans Mono", va="top")
        y -= step


def _wrap(header: str) -> str:
    words = header.split()
    if len(words) < 2:
        return header
    half = (len(words) + 1) // 2
    return " ".join(words[:half]) + "\n" + " ".join(words[half:])


def _style_table(t: Any, size: float) -> None:
    t.auto_set_font_size(False)
    t.set_fontsize(size)
    for (r, _c), cell in t.get_celld().items():
        cell.set_linewidth(0.3)
        cell.set_edgecolor("#999999")
        if r == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_height(cell.get_height() * 1.8)


_COUNT_NAMES = ("students", "enrollment", "low_income")


def _is_count_column(name: str) -> bool:
    return name in _COUNT_NAMES or name.endswith(tuple("_" + c for c in _COUNT_NAMES))


def _mask_extra(frame: pd.DataFrame, below: int) -> pd.DataFrame:
    """Suppress an extra table's student counts, and shares that sit next to a suppressed count."""
    out = frame.copy()
    if not below:
        return out
    counts = [c for c in out.columns if _is_count_column(str(c))]
    small = np.zeros(len(out), dtype=bool)
    for c in counts:
        values = out[c].to_numpy(dtype=object)
        flags = np.array([suppress.is_small(v, below) for v in values], dtype=bool)
        small |= flags
        out[c] = [f"<{int(below)}" if f else v for f, v in zip(flags, values, strict=True)]
    for c in out.columns:
        if str(c).endswith("share") or str(c) == "utilization":
            values = out[c].to_numpy(dtype=object)
            out[c] = [suppress.HIDDEN if f else v for f, v in zip(small, values, strict=True)]
    return out


def _extra_cell(v: Any) -> str:
    if isinstance(v, str):
        return _fit(v, 30)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}" if abs(int(v)) >= 10000 else str(int(v))
    if isinstance(v, float | np.floating):
        return f"{float(v):.3f}" if abs(float(v)) < 10 else f"{float(v):,.1f}"
    return _fit(str(v), 30)
