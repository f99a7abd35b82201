"""Polygons for the browser: encoded polylines, safe JSON, and Leaflet inlined (from zoneopt.viz).

Both the editor widget and ``public.html`` embed unit polygons as encoded polylines (deltas of
integer steps of ``1 / scale`` degree, Google's scheme, x then y): about a quarter of the bytes of
GeoJSON text. :data:`DECODE_JS` turns them back into GeoJSON in the page.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoneopt.viz.map_assets import js_json, leaflet_css, leaflet_js
from zoneopt.viz.map_geometry import encode_geometry, encode_ring, zigzag_encode

__all__ = ["encode_ring", "encode_geometry", "js_json", "leaflet_css", "leaflet_js", "zigzag_encode",
           "DECODE_JS"]


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
