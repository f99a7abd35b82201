"""``public.html``: the page where families find their school, today and under the proposal.

One self-contained file, like map.html: Leaflet 1.9.4 and all data inline, no basemap, and a
Content-Security-Policy that forbids every request (``connect-src 'none'``, images only from data:
URIs), so a typed address never leaves the reader's computer. It shows the proposed zones (and
today's, as a second layer), the schools, and

- with ``[report] addresses``: a search box (``#address-search``) with type-ahead over the address
  list, normalised as :func:`~zoneopt.desk.addresses.normalize_address` does; Enter or a picked
  suggestion drops a pin and writes "today: NAME; proposed: NAME" into ``#address-answer``;
- always: a click on the map does the same for the clicked point (point-in-polygon in the
  browser, on the map's outlines).

Counts of students follow ``[report] suppress_below`` (school popups are the only counts shown).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd
import shapely

from ..viz.maps import LEAFLET_VERSION, ZONE_PALETTE, simplify_coverage
from . import geometry, suppress
from .addresses import ABBREVIATIONS, encode_address_index, locate_addresses

__all__ = ["public_html", "SCALE"]

#: Steps per degree of the embedded outlines (1e-5 degree is about 1 m).
SCALE = 10**5

_LABELS = {
    "proposed": "Proposed zones",
    "today": "Today's zones",
    "schools": "Schools",
    "outside": "This place is outside the district's attendance zones.",
    "none": "none",
    "clicked": "The point you clicked on the map",
    "not_found": "Address not found: check the spelling, or pick one of the suggestions.",
    "ambiguous": "Several addresses match: pick one of the suggestions.",
}


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    text = resources.files("zoneopt.desk").joinpath("assets", "public.html").read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def _asset(name: str) -> str:
    return resources.files("zoneopt.desk").joinpath("assets", name).read_text(encoding="utf-8")


def public_html(
    plan: Any,
    addresses: pd.DataFrame | None = None,
    *,
    suppress_below: int | None = None,
    title: str | None = None,
) -> str:
    """The complete text of public.html for a plan.

    Parameters
    ----------
    plan
        A :class:`zoneopt.plan.Plan` with an assignment.
    addresses
        ``address, lon, lat`` (see :func:`~zoneopt.desk.addresses.read_addresses`), or None for a
        page without the search box (a click on the map still answers).
    suppress_below
        Counts below this are shown as "<N" (default: the plan's ``[report] suppress_below``).
    title
        Page title (default: the plan's report title, else "School attendance zones").

    Returns
    -------
    str
        The page; deterministic for the same inputs.
    """
    if plan.positions is None:
        raise ValueError("this plan has no assignment to show")
    d = plan.district
    below = plan.scenario.report.suppress_below if suppress_below is None else int(suppress_below)
    title = (title if title is not None else plan.title) or "School attendance zones"
    new = np.asarray(plan.positions, dtype=np.int64)
    old = np.asarray(d.status_quo, dtype=np.int64)

    simplified = simplify_coverage(d.units.geometry)
    wgs = simplified.to_crs(4326)
    units = [
        {"p": {"n": int(new[i]), "o": int(old[i])}, "g": geometry.encode_geometry(g, SCALE)}
        for i, g in enumerate(wgs.values)
    ]

    def zones(pos: np.ndarray) -> list[dict]:
        out = []
        for j in range(d.n_schools):
            mask = pos == j
            if mask.any():
                g = shapely.union_all(wgs.values[mask])
                out.append({"p": {"n": j}, "g": geometry.encode_geometry(g, SCALE)})
        return out

    colors = geometry.zone_colors(d.adjacency, [new, old], d.n_schools, ZONE_PALETTE)
    table = plan.schools_table
    shown = suppress.mask_schools_table(table, below)
    pts = d.schools.geometry.to_crs(4326)
    schools = []
    for j, sid in enumerate(d.school_ids):
        name = table["name"].iat[j]
        name = str(sid) if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
        lines = [
            f"Students today: {_count(shown['enrollment_before'].iat[j], below)}",
            f"Students under the proposal: {_count(shown['enrollment_after'].iat[j], below)}",
            f"Capacity: {int(table['capacity'].iat[j]):,}",
        ]
        schools.append({
            "id": str(sid), "name": name, "color": colors[j], "lines": lines,
            "lat": round(float(pts.iat[j].y), 6), "lon": round(float(pts.iat[j].x), 6),
        })
    data: dict[str, Any] = {
        "scale": SCALE,
        "units": units,
        "proposed_zones": zones(new),
        "today_zones": zones(old),
        "schools": schools,
        "labels": _LABELS,
        "abbreviations": ABBREVIATIONS,
        "addresses": None,
    }
    example = "123 Main St"
    if addresses is not None and len(addresses):
        unit = locate_addresses(d, addresses)
        data["addresses"] = encode_address_index(addresses, unit)
        example = str(addresses["address"].iat[0])
    moved = int((new != old).sum())
    lede = (
        f"The proposal changes the school of {moved:,} of the district's {d.n_units:,} "
        "neighbourhood areas. "
        + ("Type your address to see your school today and under the proposal, or click the map."
           if data["addresses"] else
           "Click the map where you live to see your school today and under the proposal.")
    )
    note = " ".join(filter(None, [
        "Schools are the circles; the proposed zones are drawn solid, today's zones (second "
        "layer, top right) dashed. This page works offline and sends nothing anywhere: the search "
        "runs in your browser.",
        suppress.suppression_note(below),
        "Answers come from the district's planning areas; the district's registrar confirms "
        "each enrolment.",
    ]))
    return _template().render(
        title=title,
        lede=lede,
        note=note,
        example=example,
        with_addresses=data["addresses"] is not None,
        leaflet_version=LEAFLET_VERSION,
        leaflet_css=markupsafe.Markup(geometry.leaflet_css()),
        leaflet_js=markupsafe.Markup(geometry.leaflet_js()),
        decode_js=markupsafe.Markup(geometry.DECODE_JS),
        public_js=markupsafe.Markup(_asset("public.js").replace("</script", "<\\/script")),
        data=markupsafe.Markup(geometry.js_json(data)),
    )


def _count(value: Any, below: int) -> str:
    if isinstance(value, str):  # already suppressed ("<N")
        return value
    return suppress.count_text(value, below)
