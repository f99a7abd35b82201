"""The map page's embedded assets and its folium elements.

Leaflet 1.9.4 (``assets/``, see ``assets/README.md``) and zoneopt's map style are put inline in
the page head, so a map opened in a board room with no network still draws; jQuery, Bootstrap
and the icon fonts folium loads from CDNs by default are not used. The elements below put
zoneopt's scripts (templates in ``templates/*.js.j2``) into the page without templating their
data a second time, and :func:`stable_ids` numbers branca's random element ids in order so the
same map always gives the same text.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from typing import Any

from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from zoneopt.viz import _templates
from zoneopt.viz.map_geometry import COORD_DECIMALS

__all__ = ["LEAFLET_VERSION", "inline_head", "js_json", "leaflet_css", "leaflet_js", "stable_ids"]

LEAFLET_VERSION = "1.9.4"

_asset_text = _templates.asset_text
_template_text = _templates.template_text


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its layer-control icons inlined (nothing to fetch)."""
    css = _asset_text("leaflet.css")
    for image in ("layers-2x.png", "layers.png"):
        data = base64.b64encode(_templates.asset_bytes(image)).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    # Only Leaflet's default pin markers read this one; zoneopt draws none, so nothing to fetch.
    return css.replace("url(images/marker-icon.png)", "none")


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet (BSD-2-Clause, vendored in zoneopt/viz/assets), safe inside ``<script>``."""
    # A literal "</script" inside the script would end the element early.
    return _asset_text("leaflet.js").replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def inline_head() -> str:
    """The ``<style>`` and ``<script>`` blocks that replace folium's CDN links."""
    return (
        f"<style>/* Leaflet {LEAFLET_VERSION} (BSD-2-Clause) */\n{leaflet_css()}</style>\n"
        f"<style>{_template_text('map.css')}</style>\n"
        f"<script>{leaflet_js()}</script>\n"
    )


def js_json(obj: Any) -> str:
    """JSON safe to put inside a ``<script>`` element (no ``</script>``, no HTML breakout)."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------------------------
# Map elements


class _Raw(Element):
    """Text put into the page as it is.

    branca wraps each rendered script in ``Element(text)``, which compiles the text as a Jinja
    template a second time: data containing ``{{ ... }}`` (a school named so, or an encoded
    geometry) would be evaluated. Text held here is never templated again.
    """

    def __init__(self, text: str):
        super().__init__("")
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _RawScript(MacroElement):
    """A MacroElement whose rendered ``script`` macro goes into the page without re-templating."""

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("zoneopt map elements render inside a folium Map's Figure")
        script = self._template.module.__dict__.get("script")
        if script is not None:
            figure.script.add_child(_Raw(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _InlineAssets(MacroElement):
    """Puts Leaflet's script and style, and zoneopt's map style, inline in the page head."""

    _template = Template("")

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if isinstance(figure, Figure):
            figure.header.add_child(_Raw(inline_head()), name="zoneopt_inline_assets")
        super().render(**kwargs)


class _Runtime(_RawScript):
    def __init__(self, units: list, schools: list, zones: list, current: list, with_plan: bool,
                 with_share: bool = True):
        super().__init__()
        self.with_share = with_share
        self._name = "ZoneoptRuntime"
        self._template = Template(_template_text("runtime.js.j2"))
        self.data_name = "zoneoptUnits"
        self.units_json = js_json(units)
        self.schools_json = js_json(schools)
        self.zones_json = js_json(zones)
        self.current_zones_json = js_json(current)
        self.with_plan = with_plan
        self.scale = 10**COORD_DECIMALS


class _UnitsLayer(Layer, _RawScript):
    def __init__(
        self, name: str, *, pane: str, style_js: str, filter_js: str = "true", show: bool = True
    ):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ZoneoptUnits"
        self._template = Template(_template_text("units_layer.js.j2"))
        self.data_name = "zoneoptUnits"
        self.pane = pane
        self.style_js = style_js
        self.filter_js = filter_js
        self.interactive = True


class _OutlineLayer(Layer, _RawScript):
    def __init__(self, name: str, *, zones_var: str, pane: str, style_js: str, show: bool):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "ZoneoptOutlines"
        self._template = Template(_template_text("zone_outlines.js.j2"))
        self.zones_var = zones_var
        self.pane = pane
        self.style_js = style_js


class _SchoolsLayer(Layer, _RawScript):
    def __init__(self, name: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ZoneoptSchools"
        self._template = Template(_template_text("schools_layer.js.j2"))
        self.pane = "zoneoptSchools"


class _ZoneLabels(Layer, _RawScript):
    def __init__(self, name: str, labels: list[dict], *, pane: str):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ZoneoptZoneLabels"
        self._template = Template(_template_text("zone_labels.js.j2"))
        self.labels_json = js_json(labels)
        self.pane = pane


class _FitBounds(_RawScript):
    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "ZoneoptFitBounds"
        self._template = Template(_template_text("fit_bounds.js.j2"))
        self.bounds = bounds


class _Legend(_RawScript):
    def __init__(
        self,
        *,
        classes: list[dict],
        zones_title: str,
        choropleth_name: str,
        choropleth_shown: bool,
        title: str,
        list_zones: bool,
        with_plan: bool,
        position: str = "bottomright",
    ):
        super().__init__()
        self._name = "ZoneoptLegend"
        self.position = position
        self._template = Template(_template_text("legend.js.j2"))
        self.classes_json = js_json(classes)
        self.classes_title = "Low-income share (Fisher-Jenks classes)"
        self.zones_title = zones_title
        self.choropleth_name = choropleth_name
        self.choropleth_shown = choropleth_shown
        self.title = title
        self.list_zones = list_zones
        self.with_plan = with_plan



def stable_ids(root: Element, text: str) -> str:
    """Replace branca's random 32-hex element ids by ids numbered in order of appearance."""
    ids: set[str] = set()
    stack = [root]
    seen: set[int] = set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        if isinstance(getattr(el, "_id", None), str):
            ids.add(el._id)
        stack.extend(getattr(el, "_children", {}).values())
        for attr in ("header", "html", "script"):
            child = getattr(el, attr, None)
            if isinstance(child, Element):
                stack.append(child)
    if not ids:
        return text
    order: dict[str, str] = {}
    pattern = re.compile("|".join(sorted(map(re.escape, ids))))

    def repl(match: re.Match) -> str:
        key = match.group(0)
        if key not in order:
            order[key] = f"{len(order):032x}"
        return order[key]

    return pattern.sub(repl, text)
