"""Map colours: zone fills by graph colouring, and the classes of the low-income choropleth."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import mapclassify
import networkx as nx
import numpy as np
import shapely

__all__ = [
    "ZONE_PALETTE",
    "EXTRA_PALETTE",
    "SHARE_PALETTE",
    "NO_STUDENTS_COLOR",
    "zone_colors",
    "share_classes",
    "legend_corner",
]

#: Zone fill colours: the Okabe-Ito palette (distinguishable with the common colour-vision
#: deficiencies), without its black. Neighbouring zones get different colours (graph colouring).
ZONE_PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
)
#: Sequential classes of the low-income share (viridis: ordered in lightness, colour-blind safe).
SHARE_PALETTE = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
NO_STUDENTS_COLOR = "#d9d9d9"
_JENKS_MAX_VALUES = 600


#: Colours added after the palette when a map needs more (Paul Tol's muted scheme): the
#: colouring stays proper, with neighbours never sharing a colour.
EXTRA_PALETTE = ("#882255", "#44AA99", "#DDCC77", "#332288", "#117733", "#AA4499", "#88CCEE")


def _touching(school_ids: list[str], zones: dict[str, Any]) -> nx.Graph:
    """Zones that share an edge (rook adjacency as in CONTRACT.md: a shared edge, not a corner)."""
    graph = nx.Graph()
    graph.add_nodes_from(school_ids)
    ids = [s for s in school_ids if s in zones]
    if len(ids) < 2:
        return graph
    geoms = [zones[s] for s in ids]
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j and geoms[i].boundary.intersection(geoms[j].boundary).length >= 0.01:
            graph.add_edge(ids[i], ids[j])
    return graph


def zone_colors(school_ids: list[str], zonings: list[dict[str, Any]]) -> dict[str, str]:
    """A proper colouring of the zones: zones that touch never share a colour.

    Parameters
    ----------
    school_ids
        Every school, in order (ties are broken by this order: deterministic).
    zonings
        Zone geometries by school: the first (the proposed zones) is coloured properly; the
        others (today's zones) are honoured where the palette allows, so a school keeps one
        colour on both layers and today's neighbours differ too whenever possible.

    Returns
    -------
    dict
        A ``#rrggbb`` colour per school, from :data:`ZONE_PALETTE` (then :data:`EXTRA_PALETTE`
        when a map needs more colours than the palette has).
    """
    hard = _touching(school_ids, zonings[0]) if zonings else nx.Graph()
    hard.add_nodes_from(school_ids)
    soft = nx.Graph()
    soft.add_nodes_from(school_ids)
    for zones in zonings[1:]:
        soft.add_edges_from(_touching(school_ids, zones).edges)
    palette = list(ZONE_PALETTE)
    position = {s: k for k, s in enumerate(school_ids)}
    chosen: dict[str, int] = {}
    used: list[int] = [0] * len(palette)
    # DSatur: colour next the school whose coloured neighbours show the most distinct colours
    # (ties: most neighbours, then school order), so few colours suffice on map-like graphs.
    while len(chosen) < len(school_ids):
        def saturation(s: str) -> tuple:
            seen = {chosen[t] for t in hard.neighbors(s) if t in chosen}
            return (-len(seen), -hard.degree[s], -soft.degree[s], position[s])

        s = min((s for s in school_ids if s not in chosen), key=saturation)
        taken = {chosen[t] for t in hard.neighbors(s) if t in chosen}
        free = [c for c in range(len(palette)) if c not in taken]
        if not free:
            palette.append(EXTRA_PALETTE[(len(palette) - len(ZONE_PALETTE)) % len(EXTRA_PALETTE)])
            used.append(0)
            free = [len(palette) - 1]
        near = [chosen[t] for t in hard.neighbors(s) if t in chosen]
        soft_taken = {chosen[t] for t in soft.neighbors(s) if t in chosen}

        def rank(c: int, near: list[int] = near, soft_taken: set = soft_taken) -> tuple:
            # Prefer a colour today's neighbours lack, then the least-used (the palette spreads
            # out), then the one least like its neighbours' (sky blue next to blue is weak).
            contrast = min((_rgb_distance(palette[c], palette[t]) for t in near), default=0)
            return (c in soft_taken, used[c], -contrast, c)

        c = min(free, key=rank)
        chosen[s] = c
        used[c] += 1
    return {s: palette[chosen[s]] for s in school_ids}


def _rgb_distance(a: str, b: str) -> float:
    """Euclidean distance of two #rrggbb colours, red and blue weighted as in "redmean"."""
    ra, ga, ba = (int(a[i : i + 2], 16) for i in (1, 3, 5))
    rb, gb, bb = (int(b[i : i + 2], 16) for i in (1, 3, 5))
    rmean = (ra + rb) / 2
    return math.sqrt(
        (2 + rmean / 256) * (ra - rb) ** 2
        + 4 * (ga - gb) ** 2
        + (2 + (255 - rmean) / 256) * (ba - bb) ** 2
    )


def share_classes(shares: np.ndarray) -> tuple[np.ndarray, list[str], list[dict]]:
    """Fisher-Jenks classes of the units' low-income shares.

    Returns
    -------
    classes
        Class index per unit; -1 for units without students (share undefined).
    colors
        Fill colour of each class.
    legend
        ``{"color", "label"}`` entries, the classes in order then "no students" if any.
    """
    valid = ~np.isnan(shares)
    cls = np.full(len(shares), -1, dtype=int)
    colors: list[str] = []
    legend: list[dict] = []
    values = shares[valid]
    if values.size:
        k = int(min(len(SHARE_PALETTE), np.unique(values).size))
        if k >= 2:
            # Fisher-Jenks is quadratic in the number of values (pure Python without numba):
            # past _JENKS_MAX_VALUES, breaks come from evenly spaced order statistics
            # (deterministic, unlike FisherJenksSampled) and then classify every unit.
            sample = values
            if values.size > _JENKS_MAX_VALUES:
                sample = np.quantile(values, np.linspace(0, 1, _JENKS_MAX_VALUES))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Numba not installed")
                bins = mapclassify.FisherJenks(sample, k=k).bins
            classifier = mapclassify.UserDefined(values, bins=list(bins[:-1]) + [values.max()])
            cls[valid] = classifier.yb
            edges = [float(values.min())] + [float(b) for b in classifier.bins]
        else:
            cls[valid] = 0
            edges = [float(values.min()), float(values.max())]
        colors = _spread(SHARE_PALETTE, len(edges) - 1)
        for c in range(len(edges) - 1):
            lo, hi = edges[c], edges[c + 1]
            legend.append({"color": colors[c], "label": f"{100 * lo:.0f}% to {100 * hi:.0f}%"})
    if (~valid).any():
        legend.append({"color": NO_STUDENTS_COLOR, "label": "no students"})
    return cls, colors, legend


def _spread(palette: Sequence[str], k: int) -> list[str]:
    if k <= 1:
        return [palette[len(palette) // 2]]
    idx = np.linspace(0, len(palette) - 1, k).round().astype(int)
    return [palette[i] for i in idx]


def legend_corner(area: Any, bounds: tuple[float, float, float, float]) -> str:
    """The bottom corner of the map frame where a legend covers the least of the district.

    Parameters
    ----------
    area
        The district's polygons (a shapely geometry, any CRS).
    bounds
        ``(minx, miny, maxx, maxy)`` of what the map shows, in the same CRS.

    Returns
    -------
    str
        ``"bottomright"`` or ``"bottomleft"`` (Leaflet positions; the title sits top left and
        the layer control top right). The legend's box is taken as a third of the width and
        two fifths of the height.
    """
    minx, miny, maxx, maxy = bounds
    w, h = (maxx - minx) / 3.0, (maxy - miny) * 0.4
    boxes = {
        "bottomright": shapely.box(maxx - w, miny, maxx, miny + h),
        "bottomleft": shapely.box(minx, miny, minx + w, miny + h),
    }
    covered = {k: area.intersection(b).area for k, b in boxes.items()}
    # Ties (both empty): bottom right, Leaflet's usual place.
    return min(covered, key=lambda k: (round(covered[k], 6), k != "bottomright"))
