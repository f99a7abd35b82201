"""Polygons for the browser: encoded polylines, safe JSON, and Leaflet inlined.

Both the editor widget and ``public.html`` embed unit polygons as encoded polylines (deltas of
integer steps of ``1 / scale`` degree, Google's scheme, x then y): about a quarter of the bytes of
GeoJSON text. :data:`DECODE_JS` turns them back into GeoJSON in the page.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

import numpy as np
import shapely

from zoneopt.viz import _templates

__all__ = ["encode_ring", "encode_geometry", "js_json", "leaflet_css", "leaflet_js", "DECODE_JS"]


def encode_ring(coords: np.ndarray, scale: int) -> str:
    """One ring as an encoded polyline with ``scale`` steps per degree."""
    from .addresses import zigzag_encode

    ints = np.round(np.asarray(coords)[:, :2] * scale).astype(np.int64)
    return zigzag_encode(np.diff(ints, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)))


def encode_geometry(geom: Any, scale: int) -> list[list[str]]:
    """A (multi)polygon as polygons, each a list of encoded rings (exterior first)."""
    if geom is None or geom.is_empty:
        return []
    parts = shapely.get_parts(geom) if geom.geom_type in ("MultiPolygon", "GeometryCollection") else [geom]
    return [
        [encode_ring(np.asarray(p.exterior.coords), scale)]
        + [encode_ring(np.asarray(r.coords), scale) for r in p.interiors]
        for p in parts
        if p.geom_type == "Polygon" and not p.is_empty
    ]


def js_json(obj: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, no HTML breakout, no U+2028."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its layer-control icons inlined (nothing to fetch)."""
    css = _templates.asset_text("leaflet.css")
    for image in ("layers-2x.png", "layers.png"):
        data = base64.b64encode(_templates.asset_bytes(image)).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    return css.replace("url(images/marker-icon.png)", "none")


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet 1.9.4 (BSD-2-Clause, vendored in zoneopt/viz/assets), safe inside ``<script>``."""
    return _templates.asset_text("leaflet.js").replace("</script", "<\\/script")


#: JavaScript: ``zoneoptDecode(features, scale)`` -> GeoJSON FeatureCollection of MultiPolygons,
#: for features ``{"p": properties, "g": encoded polygons}``.
DECODE_JS = r"""
function zoneoptDecodeRing(str, scale) {
    var coords = [], index = 0, x = 0, y = 0, n = str.length;
    while (index < n) {
        var d = [0, 0];
        for (var k = 0; k < 2; k++) {
            var result = 0, shift = 0, b;
            do {
                b = str.charCodeAt(index++) - 63;
                result |= (b & 0x1f) << shift;
                shift += 5;
            } while (b >= 0x20);
            d[k] = (result & 1) ? ~(result >> 1) : (result >> 1);
        }
        x += d[0];
        y += d[1];
        coords.push([x / scale, y / scale]);
    }
    return coords;
}
function zoneoptDecode(features, scale) {
    return {type: "FeatureCollection", features: features.map(function (f) {
        return {type: "Feature", properties: f.p, geometry: {type: "MultiPolygon",
            coordinates: f.g.map(function (poly) {
                return poly.map(function (r) { return zoneoptDecodeRing(r, scale); });
            })}};
    })};
}
"""


def zone_colors(adjacency: Any, positions: list[np.ndarray], n_schools: int,
                palette: tuple[str, ...]) -> list[str]:
    """A colour per school such that zones sharing a boundary (in any of ``positions``) differ.

    Greedy colouring, most-connected schools first (ties in school order: deterministic); with
    more conflicts than colours, the least-used free colour is reused.
    """
    coo = adjacency.tocoo()
    pairs: set[tuple[int, int]] = set()
    for pos in positions:
        a, b = pos[coo.row], pos[coo.col]
        diff = a != b
        pairs.update(zip(a[diff].tolist(), b[diff].tolist(), strict=True))
    nbrs: list[set[int]] = [set() for _ in range(n_schools)]
    for a, b in pairs:
        nbrs[a].add(b)
        nbrs[b].add(a)
    order = sorted(range(n_schools), key=lambda j: (-len(nbrs[j]), j))
    chosen: dict[int, int] = {}
    used = [0] * len(palette)
    for j in order:
        taken = {chosen[k] for k in nbrs[j] if k in chosen}
        free = [c for c in range(len(palette)) if c not in taken] or list(range(len(palette)))
        c = min(free, key=lambda c: (used[c], c))
        chosen[j] = c
        used[c] += 1
    return [palette[chosen[j]] for j in range(n_schools)]
