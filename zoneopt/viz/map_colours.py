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

__all__ = ["ZONE_PALETTE", "SHARE_PALETTE", "NO_STUDENTS_COLOR", "zone_colors", "share_classes"]

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


def zone_colors(school_ids: list[str], zonings: list[dict[str, Any]]) -> dict[str, str]:
    """Colour each school so that zones which touch (in any of the zonings) differ."""
    graph = nx.Graph()
    graph.add_nodes_from(school_ids)
    for zones in zonings:
        ids = [s for s in school_ids if s in zones]
        if len(ids) < 2:
            continue
        geoms = [zones[s] for s in ids]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for i, j in zip(left.tolist(), right.tolist(), strict=True):
            if i < j:
                shared = geoms[i].boundary.intersection(geoms[j].boundary)
                # Rook adjacency as in CONTRACT.md: a shared edge, not a corner.
                if shared.length >= 0.01:
                    graph.add_edge(ids[i], ids[j])
    # Greedy colouring, most-connected zones first (ties in school order: deterministic), that
    # picks the least-used colour its neighbours do not have, so the whole palette is spread out
    # rather than the fewest colours reused. Planar maps rarely need more than 5 colours; with
    # more conflicts than colours, the least-used colour is reused.
    order = sorted(school_ids, key=lambda s: (-graph.degree[s], school_ids.index(s)))
    used = [0] * len(ZONE_PALETTE)
    chosen: dict[str, int] = {}
    for s in order:
        taken = {chosen[t] for t in graph.neighbors(s) if t in chosen}
        free = [c for c in range(len(ZONE_PALETTE)) if c not in taken] or list(
            range(len(ZONE_PALETTE))
        )
        near = [chosen[t] for t in graph.neighbors(s) if t in chosen]

        def contrast(c: int, near: list[int] = near) -> float:
            # Among equally used colours, the one least like its neighbours' (sky blue next to
            # blue is legal but weak).
            return min((_rgb_distance(ZONE_PALETTE[c], ZONE_PALETTE[t]) for t in near), default=0)

        c = min(free, key=lambda c: (used[c], -contrast(c), c))
        chosen[s] = c
        used[c] += 1
    return {s: ZONE_PALETTE[chosen[s]] for s in school_ids}


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
