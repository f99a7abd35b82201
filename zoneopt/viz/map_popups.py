"""School markers of the map: each school's position, colour and popup (today and proposed)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from zoneopt.desk import suppress
from zoneopt.viz import _templates

if TYPE_CHECKING:
    from zoneopt.viz.maps import Prepared

__all__ = ["school_markers", "missing"]


def school_markers(
    d: Prepared, colors: dict[str, str], schools_table: pd.DataFrame | None,
    suppress_below: int = 0,
    with_share: bool = True,
) -> list[dict]:
    """Position, colour and popup HTML of each school.

    Without ``with_share`` (a capacity redraw) the popup has no low-income row.
    With a plan's ``schools_table`` the popup shows today and proposed; otherwise the figures of
    the drawn zones are computed here.
    """
    table = None
    if schools_table is not None:
        table = suppress.mask_schools_table(schools_table, suppress_below)
        table["school_id"] = table["school_id"].astype(str)
        table = table.set_index("school_id")
    stats = None
    schools_wgs = d.schools.to_crs(4326)
    out = []
    for i, sid in enumerate(d.school_ids):
        cap = d.schools.at[i, "capacity"]
        if table is not None and sid in table.index:
            r = table.loc[sid]
            rows = [
                ("Enrollment", _fmt_int(r["enrollment_before"]), _fmt_int(r["enrollment_after"])),
                (
                    "Utilization",
                    _fmt_pct(r["utilization_before"], 0),
                    _fmt_pct(r["utilization_after"], 0),
                ),
                (
                    "Low-income share",
                    _fmt_pct(r["low_income_share_before"]),
                    _fmt_pct(r["low_income_share_after"]),
                ),
                (
                    "Mean distance",
                    _fmt_km(r["mean_distance_km_before"]),
                    _fmt_km(r["mean_distance_km_after"]),
                ),
            ]
            rows = [r for r in rows if with_share or r[0] != "Low-income share"]
            popup = _popup_html(d.names[i], cap, rows, before_after=True)
        else:
            if stats is None:
                by_unit = pd.Series(d.new.to_numpy(), index=d.units["unit_id"].to_numpy())
                stats = _school_stats(d.units, d.schools, by_unit.dropna())
            r = stats.loc[sid]
            rows = [
                ("Enrollment", _fmt_int(r["enrollment"])),
                ("Utilization", _fmt_pct(r["utilization"], 0)),
                ("Low-income share", _fmt_pct(r["low_income_share"])),
                ("Mean distance", _fmt_km(r["mean_distance_km"])),
            ]
            rows = [r for r in rows if with_share or r[0] != "Low-income share"]
            popup = _popup_html(d.names[i], cap, rows, before_after=False)
        pt = schools_wgs.geometry.iat[i]
        out.append(
            {
                "id": sid,
                "name": d.names[i],
                "lat": round(float(pt.y), 6),
                "lon": round(float(pt.x), 6),
                "color": colors[sid],
                "popup": popup,
            }
        )
    return out


def _fmt_int(x: Any) -> str:
    if isinstance(x, str):  # already suppressed (zoneopt.desk.suppress)
        return x
    return "n/a" if missing(x) else f"{int(round(float(x))):,}"


def _fmt_pct(x: Any, digits: int = 1) -> str:
    if isinstance(x, str):
        return x
    return "n/a" if missing(x) else f"{100 * float(x):.{digits}f}%"


def _fmt_km(x: Any) -> str:
    if isinstance(x, str):
        return x
    return "n/a" if missing(x) else f"{float(x):.2f} km"


def missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x)) or (isinstance(x, float) and math.isinf(x))
    except (TypeError, ValueError):
        return False


def _school_stats(
    units: gpd.GeoDataFrame, schools: gpd.GeoDataFrame, assignment: pd.Series
) -> pd.DataFrame:
    """Enrollment, utilization, low-income share and mean distance of each school's zone."""
    assigned = units["unit_id"].map(assignment)
    students = units["students"].to_numpy(dtype=float)
    low = units["low_income"].to_numpy(dtype=float)
    cent = units.geometry.centroid
    rows = []
    for _, s in schools.iterrows():
        mask = (assigned == s["school_id"]).to_numpy()
        n = students[mask].sum()
        dist = cent[mask].distance(s.geometry).to_numpy() / 1000.0
        rows.append(
            {
                "school_id": s["school_id"],
                "enrollment": n,
                "utilization": n / float(s["capacity"]) if float(s["capacity"]) > 0 else np.nan,
                "low_income_share": low[mask].sum() / n if n > 0 else np.nan,
                "mean_distance_km": float((dist * students[mask]).sum() / n) if n > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("school_id")


def _popup_html(name: str, capacity: Any, rows: list, before_after: bool) -> str:
    template = _templates.env().get_template("school_popup.html")
    return template.render(
        name=name, capacity=_fmt_int(capacity), rows=rows, before_after=before_after
    )

