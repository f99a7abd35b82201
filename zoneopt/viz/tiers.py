"""SES tiers and monitored groups in the report and on the map (issue 14).

:func:`ses_section_html` is the report's section (template ``ses_section.html``): each school's tier
mix today and proposed as stacked bars, the multi-group dissimilarity, and the monitored
``report_<name>`` groups with the sentence that they played no part in the assignment.
:func:`add_ses_layers` adds two layers to a plan's folium map: the units coloured by tier (popups
with the index's components) and the schools' tier mix and monitored groups (popups).
"""

from __future__ import annotations

import html
import math
from typing import Any

import folium
import markupsafe
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from . import _templates

#: Tier colours, lowest SES darkest: a sequential ramp (viridis stops) that stays ordered in
#: greyscale print.
_RAMP = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]

LAYER_UNIT_TIERS = "SES tier of each area"
LAYER_SCHOOL_TIERS = "Tier mix of each school"


def _public_table(plan: Any) -> pd.DataFrame:
    """schools.csv with counts below ``[report] suppress_below`` withheld (and shares from them)."""
    from ..desk import suppress

    scenario = getattr(plan, "scenario", None)
    below = scenario.report.suppress_below if scenario is not None else 0
    return suppress.mask_schools_table(plan.schools_table.reset_index(drop=True), below)


def tier_colors(k: int) -> list[str]:
    """``k`` colours from darkest (tier 1) to lightest (tier k)."""
    if k <= 1:
        return [_RAMP[0]]
    idx = np.round(np.linspace(0, len(_RAMP) - 1, k)).astype(int)
    return [_RAMP[i] for i in idx]


def _tiers_in(table: pd.DataFrame) -> list[int]:
    out = []
    k = 1
    while f"tier_{k}_share_after" in table.columns:
        out.append(k)
        k += 1
    return out


def _groups_in(table: pd.DataFrame) -> list[str]:
    return [c[len("report_"):-len("_share_after")] for c in table.columns
            if c.startswith("report_") and c.endswith("_share_after")]


def _pct(x: Any, digits: int = 1) -> str:
    if isinstance(x, str):  # withheld by small-count suppression (zoneopt.desk.suppress)
        return x
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    return "–" if not math.isfinite(v) else f"{100 * v:.{digits}f}%"


def tier_bars_svg(table: pd.DataFrame) -> str:
    """Stacked bars of each school's tier shares, today above proposed; an inline SVG."""
    tiers = _tiers_in(table)
    colors = tier_colors(len(tiers))
    label_w, bar_w, bar_h, gap = 170, 420, 13, 10
    row_h = 2 * bar_h + 4 + gap
    legend_h = 28
    height = legend_h + row_h * len(table) + 10
    width = label_w + bar_w + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tier-bars" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="Share of each SES tier at each school, today and proposed">'
    ]
    x = label_w
    for t, color in zip(tiers, colors, strict=True):
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{color}" '
                     'stroke="#000" stroke-width="0.5"/>')
        parts.append(f'<text x="{x + 16}" y="16" font-size="11">Tier {t}'
                     f'{" (lowest SES)" if t == 1 else ""}</text>')
        x += 125 if t == 1 else 62
    for r, (_, row) in enumerate(table.iterrows()):
        y0 = legend_h + r * row_h
        name = row["name"] if isinstance(row["name"], str) and row["name"] else row["school_id"]
        parts.append(f'<text x="0" y="{y0 + bar_h + 2}" font-size="11">'
                     f'{html.escape(str(name))}</text>')
        for b, (when, label) in enumerate((("before", "today"), ("after", "proposed"))):
            y = y0 + b * (bar_h + 4)
            parts.append(f'<text x="{label_w - 6}" y="{y + bar_h - 3}" font-size="9" '
                         f'text-anchor="end">{label}</text>')
            x = float(label_w)
            for t, color in zip(tiers, colors, strict=True):
                share = row[f"tier_{t}_share_{when}"]
                if not isinstance(share, float | int) or not math.isfinite(share) or share <= 0:
                    continue
                w = bar_w * float(share)
                parts.append(
                    f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{bar_h}" fill="{color}" '
                    f'stroke="#fff" stroke-width="0.5"><title>{html.escape(str(name))}, {label}: '
                    f'tier {t} {_pct(share)}</title></rect>')
                x += w
    parts.append("</svg>")
    return "".join(parts)


def ses_section_html(plan: Any) -> markupsafe.Markup:
    """The report's section on SES tiers and monitored groups ('' when the units carry neither)."""
    table = _public_table(plan)
    tiers, groups = _tiers_in(table), _groups_in(table)
    if not tiers and not groups:
        return markupsafe.Markup("")
    summary = plan.summary or {}
    scenario = summary.get("scenario", {})
    balance = scenario.get("objective", {}).get("balance", "dissimilarity")
    band = scenario.get("constraints", {}).get("tier_band", math.inf)
    try:
        band = float(band)
    except (TypeError, ValueError):
        band = math.inf
    names = [row["name"] if isinstance(row["name"], str) and row["name"] else row["school_id"]
             for _, row in table.iterrows()]
    tier_rows = [
        {"name": name,
         "cells": [f"{_pct(row[f'tier_{t}_share_before'])} → {_pct(row[f'tier_{t}_share_after'])}"
                   for t in tiers]}
        for name, (_, row) in zip(names, table.iterrows(), strict=True)
    ]
    group_rows = [
        {"name": name,
         "cells": [f"{_pct(row[f'report_{g}_share_before'])} → "
                   f"{_pct(row[f'report_{g}_share_after'])}" for g in groups]}
        for name, (_, row) in zip(names, table.iterrows(), strict=True)
    ]
    before = summary.get("report_dissimilarity_before") or {}
    after = summary.get("report_dissimilarity_after") or {}
    group_index = [{"name": g.replace("_", " "), "before": _pct(before.get(g)),
                    "after": _pct(after.get(g))} for g in groups]
    shares = summary.get("tier_shares") or []
    context = {
        "tiers": tiers,
        "groups": [g.replace("_", " ") for g in groups],
        "balanced": balance == "tiers",
        "band": _pct(band, 0) if math.isfinite(band) else "",
        "dt_before": _pct(summary.get("tier_dissimilarity_before")),
        "dt_after": _pct(summary.get("tier_dissimilarity_after")),
        "district_shares": [_pct(s) for s in shares],
        "chart": markupsafe.Markup(tier_bars_svg(table)) if tiers else "",
        "tier_rows": tier_rows,
        "group_rows": group_rows,
        "group_index": group_index,
    }
    return markupsafe.Markup(_templates.env().get_template("ses_section.html").render(**context))


def tier_sentences(sentences: list[str], objective: dict, constraints: dict) -> list[str]:
    """The scenario's sentences with the SES goal and the tier band (a copy; unchanged otherwise).

    With ``balance = "tiers"`` the first sentence (the goal) becomes the tiers' goal; a finite
    ``tier_band`` adds its rule before the last sentence (the one on distances).
    """
    out = list(sentences)
    if objective.get("balance") == "tiers" and out and "tier" not in out[0]:
        out[0] = ("Goal: make each school's mix of socioeconomic (SES) tiers as close to the "
                  "district's mix as possible (lowest multi-group dissimilarity index).")
    try:
        band = float(constraints.get("tier_band", math.inf))
    except (TypeError, ValueError):
        band = math.inf
    if math.isfinite(band):
        out.insert(max(len(out) - 1, 0),
                   f"Each school's share of every SES tier stays within {100 * band:.1f} points "
                   "of the district's share of that tier.")
    return out


# -------------------------------------------------------------------------------------- map


def _school_popup(row: pd.Series, tiers: list[int], groups: list[str]) -> str:
    name = row["name"] if isinstance(row["name"], str) and row["name"] else row["school_id"]
    out = [f"<b>{html.escape(str(name))}</b>", "<table><tr><th></th><th>Today</th>"
           "<th>Proposed</th></tr>"]
    for t in tiers:
        out.append(f"<tr><td>Tier {t}</td><td>{_pct(row[f'tier_{t}_share_before'])}</td>"
                   f"<td>{_pct(row[f'tier_{t}_share_after'])}</td></tr>")
    for g in groups:
        out.append(f"<tr><td>{html.escape(g.replace('_', ' '))}*</td>"
                   f"<td>{_pct(row[f'report_{g}_share_before'])}</td>"
                   f"<td>{_pct(row[f'report_{g}_share_after'])}</td></tr>")
    out.append("</table>")
    if groups:
        out.append("<small>* monitored only, not used to assign anyone</small>")
    return "".join(out)


class _TierLegend(MacroElement):
    """A legend of the tier colours, shown while the unit-tier layer is (Leaflet's overlay events)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'zoneopt-tier-legend');
    div.style.background = '#ffffff';
    div.style.padding = '6px 8px';
    div.style.font = '12px sans-serif';
    div.innerHTML = {{ this.html|tojson }};
    return div;
  };
  map.on('overlayadd', function (e) { if (e.name === {{ this.layer|tojson }}) legend.addTo(map); });
  map.on('overlayremove', function (e) { if (e.name === {{ this.layer|tojson }}) legend.remove(); });
})();
{% endmacro %}
""")

    def __init__(self, colors: list[str], layer: str) -> None:
        super().__init__()
        self._name = "TierLegend"
        rows = "".join(
            f'<div><span style="display:inline-block;width:12px;height:12px;background:{c};'
            f'border:1px solid #000;margin-right:4px"></span>Tier {k + 1}'
            f'{" (lowest SES)" if k == 0 else ""}</div>' for k, c in enumerate(colors))
        self.html = f"<b>SES tier</b>{rows}"
        self.layer = layer


def add_ses_layers(m: folium.Map, plan: Any) -> folium.Map:
    """Add the unit-tier layer and the schools' tier-mix layer to a plan's map (in place).

    Both layers start hidden and are listed in the map's layer control. Nothing is added when the
    units carry neither ``ses_tier`` nor ``report_`` columns.

    Returns
    -------
    folium.Map
        ``m`` itself.
    """
    table = _public_table(plan)
    tiers, groups = _tiers_in(table), _groups_in(table)
    if not tiers and not groups:
        return m
    # The layer control lists the layers added before it: take it (and what follows) out, add the
    # layers, and put them back.
    tail = []
    keys = list(m._children)
    for i, key in enumerate(keys):
        if isinstance(m._children[key], folium.LayerControl):
            tail = keys[i:]
            break
    moved = [(key, m._children.pop(key)) for key in tail]
    units = plan.district.units
    if tiers:
        colors = tier_colors(len(tiers))
        cols = ["unit_id", "students", "ses_tier"] + [
            c for c in units.columns if c.startswith("ses_") and (
                c.endswith("_pct") or c in ("ses_score", "ses_score_moe"))
        ] + [c for c in ("flag_ses_tier_uncertain",) if c in units.columns]
        frame = units[cols + ["geometry"]].to_crs(4326).copy()
        frame["color"] = [
            "#bbbbbb" if pd.isna(t) else colors[int(t) - 1] for t in frame["ses_tier"]]
        fields, aliases = ["unit_id", "ses_tier", "students"], ["Area", "SES tier", "Students"]
        for col, alias in (("ses_score", "Score (0-100)"), ("ses_score_moe", "Score margin"),
                           ("ses_income_pct", "Income percentile"),
                           ("ses_education_pct", "Education percentile"),
                           ("ses_single_parent_pct", "Two-parent families percentile"),
                           ("ses_owner_pct", "Home ownership percentile"),
                           ("ses_english_pct", "English at home percentile"),
                           ("flag_ses_tier_uncertain", "Tier uncertain (margins)")):
            if col in frame.columns:
                fields.append(col)
                aliases.append(alias)
                if frame[col].dtype.kind == "f":
                    frame[col] = frame[col].round(1)
        frame["ses_tier"] = [None if pd.isna(t) else int(t) for t in frame["ses_tier"]]
        # report.suppress_below: small counts of students show as "<N" in files for the public.
        below = int(getattr(getattr(plan.scenario, "report", None), "suppress_below", 0) or 0)
        frame["students"] = [f"<{below}" if below > 0 and 0 < int(v) < below else int(v)
                             for v in frame["students"]]
        layer = folium.FeatureGroup(name=LAYER_UNIT_TIERS, show=False)
        folium.GeoJson(
            frame,
            style_function=lambda f: {"color": "#ffffff", "weight": 0.5,
                                      "fillColor": f["properties"]["color"], "fillOpacity": 0.75},
            popup=folium.GeoJsonPopup(fields=fields, aliases=aliases, localize=False),
        ).add_to(layer)
        layer.add_to(m)
        _TierLegend(colors, LAYER_UNIT_TIERS).add_to(m)
    # Popups as GeoJSON properties: folium.Popup needs jQuery, which these maps do not embed.
    schools = plan.district.schools.to_crs(4326)
    points = pd.DataFrame({
        "figures": [_school_popup(row, tiers, groups) for _, row in table.iterrows()]})
    import geopandas as gpd

    points = gpd.GeoDataFrame(points, geometry=schools.geometry.to_numpy(), crs=4326)
    layer = folium.FeatureGroup(name=LAYER_SCHOOL_TIERS, show=False)
    folium.GeoJson(
        points,
        marker=folium.CircleMarker(radius=7, color="#000000", weight=1.5, fill=True,
                                   fill_color="#ffffff", fill_opacity=0.9),
        popup=folium.GeoJsonPopup(fields=["figures"], labels=False, localize=False),
    ).add_to(layer)
    layer.add_to(m)
    for key, child in moved:
        m._children[key] = child
    return m
