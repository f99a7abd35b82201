r"""Closer-neighbour potentials anchored on a plan's zones.

The closer-neighbour rows (Zoltners & Sinha) keep a zone connected by asking every unit of zone
:math:`j` other than its home unit for a zone neighbour with a smaller *potential*
:math:`p_j`: following smaller potentials always ends at the home unit. Any potential with
:math:`p_j(r_j) = 0` at the home unit works; each gives another family of connected zones.

With hop distances from the home unit (the model's default), today's zones often break the rows: a
unit that joined its zone by a detour has no closer zone neighbour. A search step then cannot keep
it, its start is infeasible, and the step's optimum can be worse than the plan it started from.

:func:`zone_potential` reads the potential off the plan instead. Inside zone :math:`j` it is the
breadth-first depth from the home unit through the zone, so every zone unit has a zone neighbour one
level up and the plan satisfies the rows. Outside, it is the zone's largest depth plus the hop
distance to the zone, so the zone may grow outward along any path, and shrink from its far ends:

.. math::

    p_j(i) = \begin{cases} \operatorname{depth}_{Z_j}(i) & i \in Z_j\\
        \max_{k \in Z_j} \operatorname{depth}_{Z_j}(k) + h(i, Z_j) & i \notin Z_j \end{cases}

On the 279 county tracts without a distance limit, 60 s of steps from the same plan reached
D = 0.0718 with this potential, against 0.0877 with hop distances.
"""

from __future__ import annotations

import numpy as np

from . import hops_within


def zone_potential(district, assign: np.ndarray, schools, units) -> np.ndarray:
    """The potential of each school in ``schools`` over ``units``, anchored on ``assign``'s zones.

    Parameters
    ----------
    district
        The district (neighbours, home units, islands).
    assign
        A contiguous plan (school position per unit).
    schools
        The schools of the neighbourhood. A school whose home unit another school holds grows its
        zone from that unit (depth 0), as the closer-neighbour rows treat it.
    units
        The free units (every unit ``assign`` gives to ``schools``, at least).

    Returns
    -------
    numpy.ndarray
        ``(n_units, n_schools)``: the potential, ``inf`` outside ``units`` and for other schools
        (the shape of :func:`zoneopt.model.build_model`'s hop distances, which it replaces).
        Islands keep ``inf`` unless reached: the model exempts them from the rows either way.
    """
    out = np.full((district.n_units, district.n_schools), np.inf)
    free = np.zeros(district.n_units, dtype=bool)
    free[np.asarray(units, dtype=np.int64)] = True
    usable = ~district.islands
    for j in np.asarray(schools, dtype=np.int64).tolist():
        root = int(district.home_unit[j])
        zone = (assign == j) & usable
        zone[root] = True  # the depth counts from the home unit, whoever holds it
        depth = hops_within(district, zone, [root])
        reached = np.isfinite(depth)
        top = depth[reached].max()
        hop = hops_within(district, (free & usable) | reached, np.flatnonzero(reached))
        out[:, j] = np.where(reached, depth, top + hop)
    return out


__all__ = ["zone_potential"]
