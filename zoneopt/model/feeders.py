r"""The second level's variables and rows: nested feeders and whole neighbourhoods.

On top of the elementary model of :func:`zoneopt.model.build_model` (binaries :math:`x_{ij}`, balance
variables :math:`t_j`) the two-level model adds, for elementary schools :math:`j`, units :math:`i` and
middle schools :math:`k`:

.. math::

    & y_{jk} \in \{0,1\}: j \text{ feeds } k, && \textstyle\sum_k y_{jk} = 1 \\
    & w_{ik} \in \{0,1\}: i \text{ is in } k\text{'s zone}, && \textstyle\sum_k w_{ik} = 1 \\
    & x_{ij} + y_{jk} - w_{ik} \le 1 && \text{(a unit follows its elementary school: nesting)}\\
    & \textstyle\sum_i m_i w_{ik} \le \lfloor \bar u_M C_k \rfloor && \text{(middle capacity)}\\
    & u_k \ge \pm \textstyle\sum_i (ml_i - \bar p_M m_i) w_{ik} && \text{(middle balance)}\\
    & w_{r_k k} = 1 && \text{(the zone holds its middle school)}

plus middle contiguity on :math:`w` in the same three forms as the elementary level (closer-neighbour
rows, a restriction; neighbour rows and lazily separated cut rows, both valid for the exact problem).
The objective adds :math:`\beta\, c_M \sum_k u_k` (``balance_weight`` times the middle dissimilarity).
With ``keep_neighbourhoods``, :math:`x_{ij} = x_{rj}` for every unit :math:`i` of a neighbourhood with
representative unit :math:`r`.

Since each unit has exactly one :math:`x` and one :math:`w` and each elementary school one :math:`y`,
the nesting rows force every unit of zone :math:`j` into the zone of the middle school :math:`j` feeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from ..district import District, zone_adjacency
from ..scenario import Scenario
from . import Model, Neighbourhood, _Rows, build_model, reachable

RHS_EPS = 1e-6


@dataclass
class TwoLevel:
    """A two-level MIP with the map from its columns back to units, schools and middle schools."""

    model: Model
    base: Model
    free_units: np.ndarray
    free_schools: np.ndarray
    cands: np.ndarray
    y_col: np.ndarray
    w_col: np.ndarray
    u_col: np.ndarray
    nested: bool
    o_col: np.ndarray | None = None

    def start_vector(self, district: District, scenario: Scenario, data, assign: np.ndarray,
                     feeds: np.ndarray | None) -> np.ndarray:
        """Column values of a full two-level plan."""
        x = self.base.start_vector(assign, district, scenario)
        out = np.zeros(len(self.model.cost))
        out[: len(x)] = x
        if not self.nested:
            return out
        pos = {int(k): c for c, k in enumerate(self.cands)}
        for r, j in enumerate(self.free_schools):
            c = pos.get(int(feeds[j]))
            if c is not None:
                out[self.y_col[r, c]] = 1.0
        mid = feeds[assign]
        for r, i in enumerate(self.free_units):
            c = pos.get(int(mid[i]))
            if c is not None:
                out[self.w_col[r, c]] = 1.0
        b = _middle_weights(data)
        dev = np.bincount(mid, weights=b, minlength=data.n_schools)
        for c, k in enumerate(self.cands):
            if self.u_col[c] >= 0:
                out[self.u_col[c]] = abs(dev[k])
        if self.o_col is not None and len(self.o_col):
            enr = np.bincount(mid, weights=data.students.astype(float), minlength=data.n_schools)
            limit = np.floor(data.capacity * scenario.feeders.middle_max_utilization + RHS_EPS)
            for c, k in enumerate(self.cands):
                out[self.o_col[c]] = max(0.0, enr[k] - limit[k])
        return out

    def plan_from(self, values: np.ndarray, assign: np.ndarray, feeds: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
        """The assignment and feeder map of a solution (the rest as in ``assign``/``feeds``)."""
        new = self.base.assignment_from(values, assign)
        if not self.nested:
            return new, feeds
        f = np.array(feeds, dtype=np.int64, copy=True)
        for r, j in enumerate(self.free_schools):
            f[j] = self.cands[int(np.argmax(values[self.y_col[r]]))]
        return new, f


def _middle_weights(data) -> np.ndarray:
    s = data.students.astype(float)
    low = data.low_income.astype(float)
    p = low.sum() / s.sum() if s.sum() else 0.0
    return low - p * s


def middle_scale(data) -> float:
    """S / (2 L N) of the middle counts: sum_k |dev_k| times this is the middle dissimilarity."""
    s, big_l = float(data.students.sum()), float(data.low_income.sum())
    big_n = s - big_l
    return 0.0 if big_l == 0 or big_n == 0 else s / (2.0 * big_l * big_n)


def middle_hops(district: District, data) -> np.ndarray:
    """``(n_units, n_middle)`` hops from each middle school's home unit (inf when unreachable)."""
    roots = np.unique(data.home_unit)
    d = shortest_path(district.adjacency, directed=False, unweighted=True, indices=roots)
    pos = {r: c for c, r in enumerate(roots)}
    return d[[pos[h] for h in data.home_unit]].T


def build_two_level(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    data,
    groups: list[np.ndarray] | None,
    *,
    contiguity: str = "closer",
    part: Neighbourhood | None = None,
    feeds: np.ndarray | None = None,
    cands: np.ndarray | None = None,
    middle_contiguity: bool = True,
    objective: str = "scenario",
    soft_capacity: float = 0.0,
    fixed_feeds: np.ndarray | None = None,
) -> TwoLevel:
    """Build the two-level model for the whole district or for a group of elementary zones.

    Parameters
    ----------
    district, scenario, eligible
        The elementary problem (see :func:`zoneopt.model.build_model`).
    data
        :class:`zoneopt.feeders.FeederData` for ``mode = "nested"``, else None.
    groups
        Unit positions of each neighbourhood to keep whole (None: no such rows).
    contiguity
        Elementary contiguity rows: ``"closer"``, ``"neighbour"`` or ``"none"``; the middle level gets
        the same kind when ``middle_contiguity`` (whole district only).
    part
        Optimise only these zones; ``feeds`` then gives the fixed feeder map and ``cands`` the middle
        schools the free zones may feed.
    objective
        ``"scenario"`` (elementary objective + balance_weight x middle D) or ``"none"``
        (feasibility only: a first plan comes much sooner).
    soft_capacity
        > 0: middle capacity may be exceeded at this cost per student; 0: hard.
    fixed_feeds
        Fix the feeder map (middle position per elementary school): the model is then the
        elementary problem with linear middle rows (capacity, balance, contiguity).
    """
    base = build_model(district, scenario, eligible, contiguity=contiguity, part=part,
                       objective=objective)
    n_base = len(base.cost)
    free_units = np.arange(district.n_units) if part is None else np.asarray(part.units, np.int64)
    free_schools = np.arange(district.n_schools) if part is None else np.asarray(part.schools, np.int64)
    nested = data is not None
    rows = _Rows()
    cost = [base.cost]
    lower, upper, integer = [base.lower], [base.upper], [base.integer]
    n_cols = n_base
    y_col = w_col = u_col = np.zeros((0, 0), dtype=np.int64)
    cand = np.zeros(0, dtype=np.int64)
    if nested:
        cand = np.arange(data.n_schools) if cands is None else np.asarray(sorted(set(cands)), np.int64)
        nc = len(cand)
        y_col = n_cols + np.arange(len(free_schools) * nc).reshape(len(free_schools), nc)
        n_cols += y_col.size
        w_col = n_cols + np.arange(len(free_units) * nc).reshape(len(free_units), nc)
        n_cols += w_col.size
        scale = middle_scale(data) * scenario.feeders.balance_weight if objective == "scenario" else 0.0
        n_u = nc if scale > 0 else 0
        u_col = np.full(nc, -1, dtype=np.int64)
        u_col[:n_u] = n_cols + np.arange(n_u)
        n_cols += n_u
        n_o = nc if soft_capacity > 0 else 0
        o_col = n_cols + np.arange(n_o)
        n_cols += n_o
        nb = y_col.size + w_col.size
        c_ext = np.zeros(nb + n_u + n_o)
        c_ext[nb:nb + n_u] = scale
        c_ext[nb + n_u:] = soft_capacity
        cost.append(c_ext)
        lo_ext = np.zeros(nb + n_u + n_o)
        up_ext = np.ones(nb + n_u + n_o)
        up_ext[nb:] = np.inf
        int_ext = np.zeros(nb + n_u + n_o, dtype=bool)
        int_ext[:nb] = True
        unit_row = {int(i): r for r, i in enumerate(free_units)}
        cpos = {int(k): c for c, k in enumerate(cand)}
        # The zone holds its middle school: the owner's home unit is in its zone.
        for k in range(data.n_schools):
            h = int(data.home_unit[k])
            if h in unit_row and int(data.home_owner[k]) == k and k in cpos:
                lo_ext[w_col[unit_row[h], cpos[k]] - n_base] = 1.0
        if fixed_feeds is not None:
            for r, j in enumerate(free_schools):
                for c, k in enumerate(cand):
                    on = int(fixed_feeds[j]) == int(k)
                    lo_ext[y_col[r, c] - n_base] = 1.0 if on else 0.0
                    up_ext[y_col[r, c] - n_base] = 1.0 if on else 0.0
        hops = None
        if middle_contiguity and part is None and scenario.constraints.contiguity:
            hops = middle_hops(district, data)
            unreachable = ~np.isfinite(hops) & ~data.islands[:, None]
            for r, i in enumerate(free_units):
                for c, k in enumerate(cand):
                    if unreachable[i, k]:
                        up_ext[w_col[r, c] - n_base] = 0.0
        lower.append(lo_ext)
        upper.append(up_ext)
        integer.append(int_ext)
        for r in range(len(free_schools)):
            rows.add(y_col[r], np.ones(nc), 1.0, 1.0)
        for r in range(len(free_units)):
            rows.add(w_col[r], np.ones(nc), 1.0, 1.0)
        school_row = {int(j): r for r, j in enumerate(free_schools)}
        for p, (i, j) in enumerate(zip(base.pair_unit.tolist(), base.pair_school.tolist(),
                                       strict=True)):
            ri, rj = unit_row[i], school_row[j]
            for c in range(nc):
                rows.add(np.array([p, y_col[rj, c], w_col[ri, c]]), np.array([1.0, 1.0, -1.0]),
                         -np.inf, 1.0)
        ms = data.students.astype(float)
        b = _middle_weights(data)
        free_mask = np.zeros(district.n_units, dtype=bool)
        free_mask[free_units] = True
        fixed_mid = (np.asarray(feeds)[part.base] if part is not None else
                     np.zeros(district.n_units, dtype=np.int64))
        mu = scenario.feeders.middle_max_utilization
        for c, k in enumerate(cand):
            fixed = ~free_mask & (fixed_mid == k) if part is not None else np.zeros(district.n_units,
                                                                                  dtype=bool)
            cap = math.floor(float(data.capacity[k]) * mu + RHS_EPS) - float(ms[fixed].sum())
            if n_o:
                rows.add(np.concatenate([w_col[:, c], [o_col[c]]]),
                         np.concatenate([ms[free_units], [-1.0]]), -np.inf, cap + RHS_EPS)
            else:
                rows.add(w_col[:, c], ms[free_units], -np.inf, cap + RHS_EPS)
            if u_col[c] >= 0:
                off = float(b[fixed].sum())
                cols = np.concatenate([w_col[:, c], [u_col[c]]])
                rows.add(cols, np.concatenate([-b[free_units], [1.0]]), off, np.inf)
                rows.add(cols, np.concatenate([b[free_units], [1.0]]), -off, np.inf)
        if hops is not None and contiguity in ("closer", "neighbour"):
            _middle_contiguity_rows(rows, district, data, w_col, cand, hops, contiguity)
    if groups:
        _whole_neighbourhood_rows(rows, district, base, groups, free_units)
    a, lo, hi = rows.matrix(n_cols)
    model = Model(
        cost=np.concatenate(cost), lower=np.concatenate(lower), upper=np.concatenate(upper),
        integer=np.concatenate(integer),
        rows=sp.vstack([sp.hstack([base.rows, sp.csr_matrix((base.rows.shape[0], n_cols - n_base))]),
                        a], format="csr"),
        row_lower=np.concatenate([base.row_lower, lo]), row_upper=np.concatenate([base.row_upper, hi]),
        pair_unit=base.pair_unit, pair_school=base.pair_school, balance_schools=base.balance_schools,
    )
    return TwoLevel(model, base, free_units, free_schools, cand, y_col, w_col, u_col, nested,
                    o_col if nested else None)


def _middle_contiguity_rows(rows, district, data, w_col, cand, hops, kind) -> None:
    """w_ik <= sum of w_vk over (closer, for "closer") neighbours v of i."""
    nbrs = district.neighbors
    islands = data.islands
    for c, k in enumerate(cand):
        h = int(data.home_unit[k])
        virtual = int(data.home_owner[k]) != k  # another middle school holds the home unit
        for i in range(district.n_units):
            if islands[i] or (i == h and not virtual) or not np.isfinite(hops[i, k]):
                continue
            nb = nbrs[i]
            if virtual and (nb == h).any():
                continue  # touches the shared home unit: connected through it
            if i == h:
                continue
            near = nb[hops[nb, k] < hops[i, k]] if kind == "closer" else nb
            rows.add(np.concatenate([[w_col[i, c]], w_col[near, c]]),
                     np.concatenate([[1.0], -np.ones(len(near))]), -np.inf, 0.0)


def _whole_neighbourhood_rows(rows, district, base, groups, free_units) -> None:
    """x_ij = x_rj for every unit i of a neighbourhood with representative r (free units only)."""
    col = {}
    for p, (i, j) in enumerate(zip(base.pair_unit.tolist(), base.pair_school.tolist(), strict=True)):
        col[(i, j)] = p
    free = set(free_units.tolist())
    schools = sorted(set(base.pair_school.tolist()))
    for g in groups:
        units = [int(i) for i in g if int(i) in free]
        if len(units) < 2:
            continue
        r = units[0]
        for i in units[1:]:
            for j in schools:
                a, b = col.get((i, j)), col.get((r, j))
                if a is None and b is None:
                    continue
                if a is None:
                    rows.add(np.array([b]), np.array([1.0]), 0.0, 0.0)
                elif b is None:
                    rows.add(np.array([a]), np.array([1.0]), 0.0, 0.0)
                else:
                    rows.add(np.array([a, b]), np.array([1.0, -1.0]), 0.0, 0.0)


def middle_pieces(district: District, data, mid: np.ndarray) -> dict[int, list[set[int]]]:
    """Per middle school, the pieces of its zone (non-island units) cut off from its home unit."""
    nbrs = district.neighbors
    out: dict[int, list[set[int]]] = {}
    for k in range(data.n_schools):
        zone = set(np.flatnonzero((mid == k) & ~data.islands).tolist())
        if not zone:
            continue
        h = int(data.home_unit[k])
        if int(data.home_owner[k]) == k:
            reached = reachable(district.adjacency, {h}, zone | {h})
        else:
            start = {int(v) for v in nbrs[h] if int(v) in zone}
            reached = reachable(district.adjacency, start, zone) if start else set()
        rest = zone - reached
        pieces = []
        while rest:
            piece = reachable(district.adjacency, {min(rest)}, rest)
            rest -= piece
            pieces.append(piece)
        if pieces:
            out[k] = pieces
    return out


def middle_cuts(district: District, data, tl: TwoLevel, mid: np.ndarray
                ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """Cut rows w_ak <= sum of w_vk over the boundary of each middle piece cut off from its school."""
    nbrs = district.neighbors
    rows = _Rows()
    count = 0
    cpos = {int(k): c for c, k in enumerate(tl.cands)}
    for k, pieces in middle_pieces(district, data, mid).items():
        c = cpos[k]
        for piece in pieces:
            count += 1
            boundary = sorted({int(v) for u in piece for v in nbrs[u] if int(v) not in piece})
            bcols = tl.w_col[boundary, c] if boundary else np.zeros(0, dtype=np.int64)
            for a in sorted(piece):
                rows.add(np.concatenate([[tl.w_col[a, c]], bcols]),
                         np.concatenate([[1.0], -np.ones(len(bcols))]), -np.inf, 0.0)
    a, lo, hi = rows.matrix(len(tl.model.cost))
    return a, lo, hi, count


def zone_feeder_model(district: District, scenario: Scenario, data, assign: np.ndarray,
                      *, closer: bool = False, soft_capacity: float = 0.0
                      ) -> tuple[Model, np.ndarray] | None:
    r"""The feeder map alone for fixed elementary zones: a small MIP on the graph of zones.

    Variables :math:`y_{jk}` (zone :math:`j` feeds :math:`k`) and :math:`u_k`; rows: one middle
    school per zone, the zone holding a middle school's home unit feeds it, middle capacity, middle
    balance, and exact contiguity of each middle zone on the zone graph by a single-commodity flow:
    the zone holding :math:`k` sends one unit to every other zone feeding :math:`k`, along arcs
    between zones that both feed :math:`k` (:math:`f^k_{uv} \le m\, y_{uk}`, :math:`\le m\, y_{vk}`).
    With each elementary zone connected, a middle zone is connected exactly when its zones are.
    With ``closer``, the closer-neighbour rule on the zone graph replaces the flow: a restriction
    (a zone feeds k only through a touching zone closer to k's zone) whose MIP solves much faster.
    With ``soft_capacity`` > 0 middle capacity may be exceeded at that cost per student.
    Returns None when two middle schools' home units fall in one elementary zone.
    """
    m, kk = district.n_schools, data.n_schools
    ms = np.bincount(assign, weights=data.students.astype(float), minlength=m)
    bz = np.bincount(assign, weights=_middle_weights(data), minlength=m)
    graph = zone_adjacency(district, assign)
    arcs = [(u, v) for u in range(m) for v in sorted(graph[u])]
    root_zone = assign[data.home_unit]
    forced: dict[int, int] = {}
    for k in range(kk):
        if int(data.home_owner[k]) != k:
            continue
        j = int(root_zone[k])
        if j in forced and forced[j] != k:
            return None
        forced[j] = k
    island_zone = np.array([data.islands[assign == j].all() if (assign == j).any() else True
                            for j in range(m)])
    contiguity = scenario.constraints.contiguity
    y = np.arange(m * kk).reshape(m, kk)
    scale = middle_scale(data) * scenario.feeders.balance_weight
    n_u = kk if scale > 0 else 0
    u0 = m * kk
    f0 = u0 + n_u
    n_f = len(arcs) * kk if contiguity and not closer else 0
    n_o = kk if soft_capacity > 0 else 0
    if contiguity and closer:
        from scipy.sparse.csgraph import shortest_path as _sp

        zadj = sp.csr_matrix((np.ones(len(arcs)), ([a for a, _ in arcs], [b for _, b in arcs])),
                             shape=(m, m))
        zhops = _sp(zadj, directed=False, unweighted=True, indices=root_zone)
    o0 = f0 + n_f
    n_cols = o0 + n_o
    cost = np.zeros(n_cols)
    cost[u0:f0] = scale
    cost[o0:] = soft_capacity
    lower, upper = np.zeros(n_cols), np.ones(n_cols)
    upper[u0:] = np.inf
    integer = np.zeros(n_cols, dtype=bool)
    integer[:u0] = True
    for j, k in forced.items():
        lower[y[j, k]] = 1.0
    rows = _Rows()
    for j in range(m):
        rows.add(y[j], np.ones(kk), 1.0, 1.0)
    mu = scenario.feeders.middle_max_utilization
    for k in range(kk):
        limit = math.floor(float(data.capacity[k]) * mu + RHS_EPS) + RHS_EPS
        if n_o:
            rows.add(np.concatenate([y[:, k], [o0 + k]]), np.concatenate([ms, [-1.0]]), -np.inf, limit)
        else:
            rows.add(y[:, k], ms, -np.inf, limit)
        if n_u:
            u = u0 + k
            rows.add(np.concatenate([y[:, k], [u]]), np.concatenate([-bz, [1.0]]), 0.0, np.inf)
            rows.add(np.concatenate([y[:, k], [u]]), np.concatenate([bz, [1.0]]), 0.0, np.inf)
        if not contiguity:
            continue
        if closer:
            for j in range(m):
                if island_zone[j] or j == root_zone[k]:
                    continue
                if not np.isfinite(zhops[k, j]):
                    upper[y[j, k]] = 0.0
                    continue
                near = [v for v in graph[j] if zhops[k, v] < zhops[k, j]]
                rows.add(np.concatenate([[y[j, k]], y[near, k]]),
                         np.concatenate([[1.0], -np.ones(len(near))]), -np.inf, 0.0)
            continue
        fcol = f0 + k * len(arcs) + np.arange(len(arcs))
        into: list[list[int]] = [[] for _ in range(m)]
        out: list[list[int]] = [[] for _ in range(m)]
        for a, (u, v) in enumerate(arcs):
            out[u].append(int(fcol[a]))
            into[v].append(int(fcol[a]))
            for end in (u, v):
                rows.add(np.array([fcol[a], y[end, k]]), np.array([1.0, -float(m)]), -np.inf, 0.0)
        root = int(root_zone[k])
        for j in range(m):
            if j == root:
                continue
            cols = np.array(into[j] + out[j] + [int(y[j, k])], dtype=np.int64)
            vals = np.concatenate([np.ones(len(into[j])), -np.ones(len(out[j])),
                                   [0.0 if island_zone[j] else -1.0]])
            rows.add(cols, vals, 0.0, 0.0)
    amat, lo, hi = rows.matrix(n_cols)
    model = Model(cost=cost, lower=lower, upper=upper, integer=integer, rows=amat, row_lower=lo,
                  row_upper=hi, pair_unit=np.zeros(0, np.int64), pair_school=np.zeros(0, np.int64),
                  balance_schools=np.zeros(0, np.int64))
    return model, y


