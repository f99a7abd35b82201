"""The editor's notebook widget: anywidget over Leaflet 1.9.4 (inlined, nothing fetched).

Why anywidget rather than ipyleaflet: in ipyleaflet each layer is a widget of its own, so a map
where any of 2,000 units can change colour is either one GeoJSON layer re-sent whole after every
move, or 2,000 polygon widgets (2,000 comms to open); the selection, the neighbouring-zone buttons
and the side panel would be more widgets around it. An anywidget module is one plain JavaScript
file shipped in the Python package (``assets/editor.js``): it keeps the unit layers in the page and
restyles only the units a move changed, uses the same vendored Leaflet as map.html (nothing from a
CDN), runs wherever anywidget does (JupyterLab, Notebook 7, VS Code, Colab; its front end comes with
``pip install``), and its JavaScript is tested on its own in headless Chromium with a stand-in for
the widget model (tests/desk/test_widget.py), which ipyleaflet's front end does not allow without a
Jupyter server.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import anywidget
import numpy as np
import traitlets

from ..viz.maps import ZONE_PALETTE, simplify_coverage
from . import geometry

__all__ = ["EditorWidget", "editor_esm", "editor_css"]

#: Steps per degree of the embedded coordinates (1e-5 degree is about 1 m).
SCALE = 10**5


def _asset(name: str) -> str:
    return resources.files("zoneopt.desk").joinpath("assets", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def editor_esm() -> str:
    """The widget's ES module: Leaflet (as a local ``L``), the polyline decoder and the editor."""
    leaflet = (
        "const L = (function () { const exports = {}; const module = { exports };\n"
        + geometry.leaflet_js()
        + "\nreturn exports; }).call(globalThis);\n"
    )
    return leaflet + geometry.DECODE_JS + _asset("editor.js")


@lru_cache(maxsize=1)
def editor_css() -> str:
    """Leaflet's stylesheet and the editor's."""
    return geometry.leaflet_css() + "\n" + _asset("editor.css")


class EditorWidget(anywidget.AnyWidget):
    """The map and side panel of an :class:`~zoneopt.desk.editor.Editor` (display it in Jupyter).

    The front end sends ``{"type": "move", "unit": i, "school": j}``, ``{"type": "undo"}`` and
    ``{"type": "reoptimize", "time_limit": s}``; the editor applies them and the traits below
    carry the new state back.
    """

    _esm = traitlets.Unicode(editor_esm()).tag(sync=True)
    _css = traitlets.Unicode(editor_css()).tag(sync=True)
    units = traitlets.List().tag(sync=True)
    scale = traitlets.Int(SCALE).tag(sync=True)
    unit_ids = traitlets.List().tag(sync=True)
    neighbours = traitlets.List().tag(sync=True)
    schools = traitlets.List().tag(sync=True)
    assignment = traitlets.List().tag(sync=True)
    edited = traitlets.List().tag(sync=True)
    figures = traitlets.Dict().tag(sync=True)
    violations = traitlets.List().tag(sync=True)
    table = traitlets.List().tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(self, editor: Any, **kwargs: Any):
        d = editor.district
        wgs = simplify_coverage(d.units.geometry).to_crs(4326)
        units = [{"p": {"i": i}, "g": geometry.encode_geometry(g, SCALE)}
                 for i, g in enumerate(wgs.values)]
        colors = geometry.zone_colors(d.adjacency, [editor.positions, np.asarray(d.status_quo)],
                                      d.n_schools, ZONE_PALETTE)
        pts = d.schools.geometry.to_crs(4326)
        names = d.schools["name"].to_numpy(dtype=object)
        schools = [
            {"id": str(sid), "name": str(names[j]) if names[j] is not None else str(sid),
             "lat": round(float(pts.iat[j].y), 6), "lon": round(float(pts.iat[j].x), 6),
             "color": colors[j]}
            for j, sid in enumerate(d.school_ids)
        ]
        super().__init__(
            units=units, unit_ids=[str(u) for u in d.unit_ids],
            neighbours=[n.tolist() for n in d.neighbors], schools=schools, **kwargs,
        )
        self._editor = editor
        self.on_msg(self._on_msg)
        self.refresh()

    def refresh(self) -> None:
        """Push the editor's state (assignment, figures, violations, school table) to the page."""
        ed = self._editor
        index = ed._unit_index
        with self.hold_sync():
            self.assignment = ed.positions.tolist()
            self.edited = [index[u] for u in ed.edited_units]
            self.figures = _json_figures(ed.figures)
            self.violations = ed.violations
            self.table = _json_rows(ed.schools)

    def _on_msg(self, _widget: Any, content: dict, _buffers: Any) -> None:
        ed = self._editor
        kind = content.get("type")
        try:
            if kind == "move":
                i, j = int(content["unit"]), int(content["school"])
                ed.move(ed.district.unit_ids[i], ed.district.school_ids[j])
                self.message = ""
            elif kind == "undo":
                self.message = "" if ed.undo() else "Nothing to undo."
            elif kind == "reoptimize":
                plan = ed.reoptimize(time_limit=float(content.get("time_limit") or 20))
                self.message = f"Re-optimised: {plan.status}, gap {plan.summary['gap']:.2%}."
        except Exception as exc:  # shown in the panel: the notebook has no other channel here
            self.message = f"{type(exc).__name__}: {exc}"


def _clean(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _json_figures(figures: dict) -> dict:
    return {k: _clean(v) for k, v in figures.items()}


def _json_rows(frame: Any) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
