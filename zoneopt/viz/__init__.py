"""Maps and the board report of a plan: self-contained HTML that works with no internet.

- :func:`zoneopt.viz.maps.plan_map` / :func:`zoneopt.viz.maps.zones_map`: folium maps (render
  inline in Jupyter).
- :func:`zoneopt.viz.maps.map_html`: the text of ``map.html``.
- :func:`zoneopt.viz.report.report_html`: the text of ``report.html``.
- :func:`zoneopt.viz.report.summary_html`: the compact table of ``Plan._repr_html_``.

Leaflet 1.9.4 is vendored in ``assets/`` (see its README) and embedded in every page; templates
(Jinja2, autoescaped) live in ``templates/``.
"""

from .maps import map_html, plan_map, zones_map
from .report import report_html, summary_html

__all__ = ["map_html", "plan_map", "zones_map", "report_html", "summary_html"]
