r"""The attendance-zone integer program, built directly as a sparse matrix.

Formulation (one binary per eligible unit-school pair :math:`(i,j) \in E`):

.. math::

    \min\ & c_D \sum_j t_j
          + \frac{w_d}{S} \sum_{(i,j)\in E} s_i d_{ij} x_{ij}
          + \frac{w_m}{S} \sum_{(i,j)\in E,\ j \ne q_i} s_i x_{ij} \\
    \text{s.t.}\ & \sum_{j:(i,j)\in E} x_{ij} = 1 && \forall i
        && \text{(assignment)}\\
    & \lceil \underline u\, C_j \rceil \le \sum_i s_i x_{ij} \le \lfloor \bar u\, C_j \rfloor
        && \forall j && \text{(capacity)}\\
    & t_j \ge \pm \sum_i (l_i - \bar p s_i) x_{ij} && \forall j && \text{(balance)}\\
    & \sum_i \big(l_i - (\bar p \pm b) s_i\big) x_{ij} \lessgtr 0 && \forall j && \text{(band)}\\
    & t_{jk} \ge \pm \sum_i (c_{ik} - P_k s_i) x_{ij},\
      \sum_i \big(c_{ik} - (P_k \pm b_T) s_i\big) x_{ij} \lessgtr 0 && \forall j, k
        && \text{(tiers, see groups.py)}\\
    & \sum_{(i,j)\in E,\ j\ne q_i} s_i x_{ij} \le m S && && \text{(stability)}\\
    & x_{ij} \le \sum_{k \in N(i):\ h_j(k) < h_j(i)} x_{kj} && \forall (i,j)\in E,\ i \ne r_j
        && \text{(closer-neighbour contiguity)}\\
    & x_{aj} \le \sum_{k \in \delta(C)} x_{kj} && \text{for separated pieces } C \ni a
        && \text{(cut contiguity)}

with :math:`c_D = S / (2LN)` so that :math:`c_D \sum_j |L_j - \bar p S_j|` is exactly the
dissimilarity index :math:`D` (since :math:`L_j/L - N_j/N = S(L_j - \bar p S_j)/(LN)`), :math:`q_i` the
status-quo school, :math:`h_j(k)` the hop distance from school :math:`j`'s home unit :math:`r_j` in the
adjacency graph (restricted to the units being optimised), :math:`\delta(C)` the units adjacent to a
piece :math:`C` of a zone that does not reach its home unit. With ``balance = "tiers"`` the
balance columns are :math:`t_{jk}` per school and SES tier with coefficient :math:`1/(2SI)` (the
multi-group dissimilarity :math:`D_T`); the binary balance is the two-group case of the same family
(:mod:`zoneopt.model.groups`).

Eligibility (:func:`eligible_pairs`) prunes pairs before anything is built: distance limits, locks, home
units, travel-matrix gaps and graph components. The closer-neighbour rule (Zoltners & Sinha) restricts
the problem (every zone it allows is contiguous); the cut rows (Validi, Buchanan & Lykhovyd 2022) are
valid for the exact problem and are added lazily by the search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ..district import District
from ..scenario import Scenario
from ..tiers import tier_counts
from ..years import years_active, years_data
from . import years as year_rows
from .groups import balance_rows, band_rows, scenario_balance

#: Slack on right-hand sides computed in floating point (students are integers).
RHS_EPS = 1e-6


def eligible_pairs(district: District, scenario: Scenario) -> np.ndarray:
    """Which (unit, school) pairs any plan may use: an ``(n_units, n_schools)`` boolean mask.

    Pairs are dropped for travel-matrix gaps, ``max_distance_km``, ``max_extra_distance_km``, locks,
    home units (always their owner's), and (with contiguity) schools in another part of the graph.
    """
    c = scenario.constraints
    d = district.dist_km
    ok = np.isfinite(d)
    ok &= d <= c.max_distance_km + 1e-9
    with np.errstate(invalid="ignore"):  # inf - inf: a unit the travel matrix gives no school
        ok &= d - district.nearest_km[:, None] <= c.max_extra_distance_km + 1e-9
    locked = district.locked
    rows = np.flatnonzero(locked >= 0)
    if len(rows):
        keep = np.zeros_like(ok[rows])
        keep[np.arange(len(rows)), locked[rows]] = True
        ok[rows] &= keep
    for j in range(district.n_schools):
        h = district.home_unit[j]
        owner = district.home_owner[j]
        row = np.zeros(district.n_schools, dtype=bool)
        row[owner] = True
        ok[h] &= row
    if c.contiguity:
        comp = district.component
        school_comp = comp[district.home_unit]
        same = comp[:, None] == school_comp[None, :]
        ok &= same | district.islands[:, None]
    return ok


@dataclass
class Model:
    """A mixed-integer program in matrix form, with the map back to units and schools.

    Columns ``0..n_pairs-1`` are the binaries ``x[pair_unit[k], pair_school[k]]``; the next columns are
    the balance variables ``t_jg`` of school ``balance_schools[c]`` and group ``balance_group[c]``
    (weights ``balance_weights``, see :mod:`zoneopt.model.groups`; one group for the low-income
    balance).
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray
    rows: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    pair_unit: np.ndarray
    pair_school: np.ndarray
    balance_schools: np.ndarray
    objective_offset: float = 0.0
    #: With [years] plan: the balance year (index) of each t column (None: today's single year).
    balance_years: np.ndarray | None = None
    years: object = None
    balance_group: np.ndarray | None = None
    balance_weights: np.ndarray | None = None
    #: Rows of the capacity family (every plan year and series with a [years] plan), so that a
    #: caller can let them stretch (zoneopt.solve.overflow); None when unknown.
    capacity_rows: np.ndarray | None = None

    @property
    def n_pairs(self) -> int:
        """Number of assignment binaries."""
        return len(self.pair_unit)

    def start_vector(self, assign: np.ndarray, district: District, scenario: Scenario) -> np.ndarray:
        """Column values for a full assignment (balance variables at their implied values)."""
        x = (assign[self.pair_unit] == self.pair_school).astype(float)
        if self.balance_years is not None:
            from .years import start_balance

            t = start_balance(self.years, assign, self.balance_schools, self.balance_years)
            x = np.concatenate([x, t])
        elif len(self.balance_schools):
            w = (self.balance_weights if self.balance_weights is not None
                 else _imbalance_weights(district)[:, None])
            g = (self.balance_group if self.balance_group is not None
                 else np.zeros(len(self.balance_schools), dtype=np.int64))
            dev = np.zeros((district.n_schools, w.shape[1]))
            np.add.at(dev, assign, w)
            t = np.abs(dev[self.balance_schools, g])
            x = np.concatenate([x, t])
        return x

    def assignment_from(self, values: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Apply a solution's chosen pairs onto ``base`` (a full assignment, copied)."""
        out = base.copy()
        chosen = values[: self.n_pairs] > 0.5
        out[self.pair_unit[chosen]] = self.pair_school[chosen]
        return out

    def add_rows(self, rows: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> None:
        """Append constraint rows (used for lazily separated cuts)."""
        self.rows = sp.vstack([self.rows, rows], format="csr")
        self.row_lower = np.concatenate([self.row_lower, lower])
        self.row_upper = np.concatenate([self.row_upper, upper])

    def keep_rows(self, keep: np.ndarray) -> None:
        """Keep only the constraint rows where ``keep`` (a boolean mask over the rows) is True."""
        keep = np.asarray(keep, dtype=bool)
        self.rows = self.rows[keep]
        self.row_lower = self.row_lower[keep]
        self.row_upper = self.row_upper[keep]
        if self.capacity_rows is not None:
            new_pos = np.cumsum(keep) - 1
            self.capacity_rows = new_pos[np.asarray(self.capacity_rows)[keep[self.capacity_rows]]]

    def to_pulp(self, name: str = "zoneopt"):
        """The same model as a PuLP problem (for CBC, commercial solvers, or writing an LP file).

        Returns
        -------
        tuple of (pulp.LpProblem, list of pulp.LpVariable)
        """
        import pulp

        prob = pulp.LpProblem(name, pulp.LpMinimize)
        cols = []
        for k in range(len(self.cost)):
            if k < self.n_pairs:
                var = pulp.LpVariable(
                    f"x_{self.pair_unit[k]}_{self.pair_school[k]}",
                    lowBound=self.lower[k], upBound=self.upper[k], cat=pulp.LpBinary
                    if self.lower[k] == 0 and self.upper[k] == 1 else pulp.LpInteger,
                )
            else:
                b = k - self.n_pairs
                tag = ("" if self.balance_years is None
                       else f"{self.balance_years[b]}_")
                group = "" if self.balance_group is None else f"_{self.balance_group[b]}"
                var = pulp.LpVariable(
                    f"t_{tag}{self.balance_schools[b]}{group}", lowBound=self.lower[k]
                )
            cols.append(var)
        prob += pulp.LpAffineExpression(
            [(cols[k], float(v)) for k, v in enumerate(self.cost) if v != 0]
        ) + self.objective_offset
        a = self.rows
        for r in range(a.shape[0]):
            lo, hi = self.row_lower[r], self.row_upper[r]
            expr = pulp.LpAffineExpression(
                [(cols[k], float(v)) for k, v in zip(a.indices[a.indptr[r]:a.indptr[r + 1]],
                                                     a.data[a.indptr[r]:a.indptr[r + 1]], strict=True)]
            )
            rname = f"r{r}"
            if lo == hi:
                prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, rhs=float(lo), name=rname)
                continue
            if np.isfinite(lo):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=float(lo), name=rname + "_lo")
            if np.isfinite(hi):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=float(hi), name=rname + "_hi")
        return prob, cols


def _imbalance_weights(district: District) -> np.ndarray:
    """a_i = l_i - p s_i: a school's sum of these is L_j - p S_j."""
    s = district.students.astype(float)
    low = district.low_income.astype(float)
    p = low.sum() / s.sum() if s.sum() else 0.0
    return low - p * s


class _Rows:
    """Accumulates rows as COO triplets; one call per constraint family."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, cols: np.ndarray, vals: np.ndarray, lo: float, hi: float) -> None:
        r = len(self.lo)
        self.r.append(np.full(len(cols), r, dtype=np.int64))
        self.c.append(np.asarray(cols, dtype=np.int64))
        self.v.append(np.asarray(vals, dtype=float))
        self.lo.append(lo)
        self.hi.append(hi)

    def matrix(self, n_cols: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
        n = len(self.lo)
        if n == 0:
            return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
        a = sp.csr_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(n, n_cols),
        )
        a.sum_duplicates()
        return a, np.asarray(self.lo), np.asarray(self.hi)


@dataclass
class Neighbourhood:
    """Which units and schools a model optimises; everything else stays as in ``base``."""

    units: np.ndarray
    schools: np.ndarray
    base: np.ndarray | None = None


def build_model(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    *,
    contiguity: str = "closer",
    part: Neighbourhood | None = None,
    objective: str = "scenario",
    potential: np.ndarray | None = None,
) -> Model:
    r"""Build the MIP for the whole district or for a neighbourhood of zones.

    Parameters
    ----------
    district, scenario
        The problem.
    eligible
        Mask from :func:`eligible_pairs`.
    contiguity
        ``"closer"`` (closer-neighbour rows, a restriction), ``"neighbour"`` (each unit needs a
        neighbour in its zone: valid for the exact problem, the cut loop's starting model) or
        ``"none"`` (no contiguity rows).
    part
        Optimise only these units over these schools, the rest fixed as in ``part.base``. The units
        must be exactly those that ``part.base`` assigns to ``part.schools``.
    objective
        ``"scenario"`` (the contract's objective) or ``"moved"`` (students moved, to repair the status
        quo into a feasible plan) or ``"none"`` (feasibility only).
    potential
        The closer-neighbour rows' potential, ``(n_units, n_schools)`` with 0 at each home unit
        (:func:`zoneopt.model.potential.zone_potential`); None: hop distances from the home units
        through the free units.

    Returns
    -------
    Model
    """
    c = scenario.constraints
    o = scenario.objective
    n, m = district.n_units, district.n_schools
    s = district.students.astype(float)
    total = s.sum()
    sq = district.status_quo
    if part is None:
        free_units = np.arange(n)
        free_schools = np.arange(m)
        base = np.zeros(n, dtype=np.int64)
    else:
        free_units = np.asarray(part.units, dtype=np.int64)
        free_schools = np.asarray(part.schools, dtype=np.int64)
        base = part.base
    unit_free = np.zeros(n, dtype=bool)
    unit_free[free_units] = True
    school_free = np.zeros(m, dtype=bool)
    school_free[free_schools] = True

    mask = eligible & unit_free[:, None] & school_free[None, :]
    hops = None
    if c.contiguity:
        hops = _hops(district, free_units, free_schools, unit_free) if potential is None \
            else potential
        mask &= np.isfinite(hops) | district.islands[:, None]
        if contiguity == "closer":
            mask = _prune_closer(district, mask, hops, free_schools)
    pu, ps = np.nonzero(mask)
    k = len(pu)
    col = np.full((n, m), -1, dtype=np.int64)
    col[pu, ps] = np.arange(k)

    ydata = bal_years = None
    bal_group = None
    group = None
    if years_active(scenario):  # every plan year's rows replace today's (model/years.py)
        ydata = years_data(district, scenario)
    # The projections carry low-income counts, not SES tiers: with balance = "tiers" the objective
    # (zoneopt.solve.state.objective_function) balances today's tier counts, and so does the model.
    if ydata is not None and not (objective == "scenario" and o.balance == "tiers"):
        use_balance = objective == "scenario" and o.balance == "dissimilarity"
        bal_schools, bal_years = year_rows.balance_columns(
            ydata, free_schools if use_balance else np.zeros(0, dtype=np.int64))
        scale = year_rows.balance_cost(ydata, bal_years)
        n_groups = 0
    else:
        group = scenario_balance(district, scenario) if objective == "scenario" else None
        scale = group.scale if group is not None and group.n_groups else 0.0
        n_groups = group.n_groups if scale > 0 else 0
        bal_schools = np.repeat(free_schools, n_groups)
        bal_group = np.tile(np.arange(n_groups, dtype=np.int64), len(free_schools))
    n_cols = k + len(bal_schools)
    cost = np.zeros(n_cols)
    moved_pair = (ps != sq[pu]).astype(float)
    if objective == "scenario":
        if total > 0 and o.distance_weight:
            cost[:k] += o.distance_weight * s[pu] * district.dist_km[pu, ps] / total
        if total > 0 and o.moved_weight:
            cost[:k] += o.moved_weight * s[pu] * moved_pair / total
        cost[k:] = scale
    elif objective == "moved":
        cost[:k] = s[pu] * moved_pair / max(total, 1.0)
    lower = np.zeros(n_cols)
    upper = np.ones(n_cols)
    upper[k:] = np.inf
    integer = np.zeros(n_cols, dtype=bool)
    integer[:k] = True

    rows = _Rows()
    _assignment_rows(rows, pu, free_units)
    cap0 = len(rows.lo)
    if ydata is not None:
        year_rows.capacity_rows(rows, ydata, pu, ps, free_schools)
    else:
        _capacity_rows(rows, district, scenario, pu, ps, free_schools)
    cap1 = len(rows.lo)
    if bal_years is not None:
        year_rows.balance_rows(rows, ydata, pu, ps, bal_schools, bal_years, k)
    elif len(bal_schools):
        balance_rows(rows, group.weights, pu, ps, free_schools, k)
    if math.isfinite(c.low_income_band):
        _band_rows(rows, district, scenario, pu, ps, free_schools)
    if math.isfinite(c.tier_band):
        band_rows(rows, tier_counts(district), s, c.tier_band, pu, ps, free_schools, RHS_EPS)
    if c.max_moved_share < 1:
        _stability_rows(rows, district, scenario, pu, ps, unit_free, base)
    if c.contiguity and contiguity == "closer":
        _closer_neighbour_rows(rows, district, col, pu, ps, hops)
    elif c.contiguity and contiguity == "neighbour":
        _neighbour_rows(rows, district, col, pu, ps)
    a, lo, hi = rows.matrix(n_cols)
    return Model(
        cost=cost, lower=lower, upper=upper, integer=integer, rows=a, row_lower=lo, row_upper=hi,
        pair_unit=pu, pair_school=ps, balance_schools=bal_schools, balance_years=bal_years,
        years=ydata, balance_group=bal_group,
        balance_weights=group.weights if n_groups else None,
        capacity_rows=np.arange(cap0, cap1),
    )


# ------------------------------------------------------------------------ constraint families


def _assignment_rows(rows: _Rows, pu: np.ndarray, free_units: np.ndarray) -> None:
    """Each free unit goes to exactly one school (a unit with no pair makes the model infeasible)."""
    order = np.argsort(pu, kind="stable")
    starts = np.searchsorted(pu[order], free_units, side="left")
    ends = np.searchsorted(pu[order], free_units, side="right")
    for a, b in zip(starts, ends, strict=True):
        cols = order[a:b]
        rows.add(cols, np.ones(len(cols)), 1.0, 1.0)


def _capacity_rows(rows, district, scenario, pu, ps, free_schools) -> None:
    c = scenario.constraints
    s = district.students.astype(float)
    for j in free_schools:
        cols = np.flatnonzero(ps == j)
        cap = float(district.capacity[j])
        hi = math.floor(cap * c.max_utilization + RHS_EPS)
        lo = math.ceil(cap * c.min_utilization - RHS_EPS) if c.min_utilization > 0 else -np.inf
        rows.add(cols, s[pu[cols]], lo, hi)


def _band_rows(rows, district, scenario, pu, ps, free_schools) -> None:
    """Each school's low-income share within the district share +/- band: the band of one group."""
    low = district.low_income.astype(float)[:, None]
    band_rows(rows, low, district.students, scenario.constraints.low_income_band, pu, ps,
              free_schools, RHS_EPS)


def _stability_rows(rows, district, scenario, pu, ps, unit_free, base) -> None:
    """Students moved from the status quo stay within the budget (minus what fixed units move)."""
    s = district.students.astype(float)
    sq = district.status_quo
    budget = scenario.constraints.max_moved_share * s.sum()
    fixed = ~unit_free
    budget -= float(s[fixed & (base != sq)].sum())
    moved = ps != sq[pu]
    cols = np.flatnonzero(moved)
    rows.add(cols, s[pu[cols]], -np.inf, budget + RHS_EPS)


def _neighbour_rows(rows, district, col, pu, ps) -> None:
    """x_ij <= sum of x_kj over all neighbours k of i (valid for the exact problem).

    A unit of a zone other than its home unit reaches the home unit through a neighbour in the zone,
    so every exactly contiguous plan satisfies these rows; they remove the isolated units that make
    the relaxation without contiguity so weak.
    """
    islands = district.islands
    nbrs = district.neighbors
    for kcol in range(len(pu)):
        i, j = pu[kcol], ps[kcol]
        if islands[i] or i == district.home_unit[j]:
            continue
        nb = nbrs[i]
        if (nb == _virtual_root(district, j)).any():
            continue
        cc = col[nb, j]
        cc = cc[cc >= 0]
        rows.add(np.concatenate([[kcol], cc]), np.concatenate([[1.0], -np.ones(len(cc))]),
                 -np.inf, 0.0)


def _closer_neighbour_rows(rows, district, col, pu, ps, hops) -> None:
    """x_ij <= sum of x_kj over neighbours k of i closer (in hops) to j's home unit."""
    islands = district.islands
    nbrs = district.neighbors
    for kcol in range(len(pu)):
        i, j = pu[kcol], ps[kcol]
        if islands[i] or hops[i, j] == 0:
            continue
        nb = nbrs[i]
        closer = nb[hops[nb, j] < hops[i, j]]
        if (closer == _virtual_root(district, j)).any():
            continue  # touches the shared home unit held by another school: connected through it
        cc = col[closer, j]
        cc = cc[cc >= 0]
        rows.add(np.concatenate([[kcol], cc]), np.concatenate([[1.0], -np.ones(len(cc))]),
                 -np.inf, 0.0)


def _virtual_root(district: District, j: int) -> int:
    """The home unit of school j when another school holds it, else -1."""
    return int(district.home_unit[j]) if district.home_owner[j] != j else -1


def _hops(district, free_units, free_schools, unit_free) -> np.ndarray:
    """Hop distance from each free school's home unit through free units (inf elsewhere)."""
    n, m = district.n_units, district.n_schools
    out = np.full((n, m), np.inf)
    if len(free_units) == n:
        out[:, :] = district.hops.T
        return out
    for j in free_schools:
        root = int(district.home_unit[j])
        mask = unit_free.copy()
        mask[root] = True  # the path starts at the home unit, held by any school
        out[:, j] = hops_within(district, mask, [root])
    return out


def hops_within(district: District, allowed: np.ndarray, sources) -> np.ndarray:
    """Hop distance from the nearest of ``sources`` through ``allowed`` units (inf elsewhere).

    Parameters
    ----------
    district
        The district (its adjacency).
    allowed
        Boolean mask of the units a path may pass through (the sources among them).
    sources
        Unit positions the distance counts from.

    Returns
    -------
    numpy.ndarray
        ``(n_units,)`` hop distances.
    """
    nodes = np.flatnonzero(allowed)
    sub = district.adjacency[nodes][:, nodes]
    d = dijkstra(sub, directed=False, unweighted=True, min_only=True,
                 indices=np.searchsorted(nodes, np.asarray(sources, dtype=np.int64)))
    out = np.full(district.n_units, np.inf)
    out[nodes] = d
    return out


def _prune_closer(district, mask, hops, free_schools) -> np.ndarray:
    """Drop pairs that can never satisfy the closer-neighbour rule (no eligible closer neighbour)."""
    mask = mask.copy()
    islands = district.islands
    nbrs = district.neighbors
    for j in free_schools:
        vroot = _virtual_root(district, j)
        units = np.flatnonzero(mask[:, j] & ~islands)
        units = units[np.argsort(hops[units, j], kind="stable")]
        for i in units:
            h = hops[i, j]
            if h == 0:
                continue
            nb = nbrs[i]
            closer = nb[hops[nb, j] < h]
            if vroot >= 0 and (closer == vroot).any():
                continue
            if not mask[closer, j].any():
                mask[i, j] = False
    return mask


def separation_cuts(
    district: District, model: Model, assign: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    r"""Cut rows for every zone piece that does not reach its home unit.

    For a piece :math:`C` of zone :math:`j` (connected through zone units, not containing the home
    unit), every path from :math:`a \in C` to the home unit leaves :math:`C` through its boundary
    :math:`\delta(C)`, none of which is in zone :math:`j` now: :math:`x_{aj} \le \sum_{k\in\delta(C)}
    x_{kj}` is valid for the exact problem and violated by ``assign``.

    Returns
    -------
    rows, lower, upper, n_pieces
    """
    col = np.full((district.n_units, district.n_schools), -1, dtype=np.int64)
    col[model.pair_unit, model.pair_school] = np.arange(model.n_pairs)
    nbrs = district.neighbors
    adj = district.adjacency
    islands = district.islands
    rows = _Rows()
    pieces = 0
    n_cols = len(model.cost)
    for j in np.unique(model.pair_school):
        zone = set(np.flatnonzero((assign == j) & ~islands).tolist())
        if not zone:
            continue
        root = int(district.home_unit[j])
        reached = reachable(adj, {root}, zone | {root})
        rest = zone - reached
        while rest:
            start = min(rest)
            piece = reachable(adj, {start}, rest)
            rest -= piece
            pieces += 1
            boundary = set()
            for u in piece:
                boundary.update(int(v) for v in nbrs[u] if int(v) not in piece)
            bcols = np.array([col[v, j] for v in sorted(boundary) if col[v, j] >= 0], dtype=np.int64)
            for a in sorted(piece):
                if col[a, j] < 0:
                    continue
                rows.add(np.concatenate([[col[a, j]], bcols]),
                         np.concatenate([[1.0], -np.ones(len(bcols))]), -np.inf, 0.0)
    a, lo, hi = rows.matrix(n_cols)
    return a, lo, hi, pieces


def reachable(adjacency: sp.csr_matrix, start: set, allowed: set) -> set:
    """Units reached from ``start`` through neighbours in ``allowed`` (connected components of the
    induced subgraph, on scipy.sparse.csgraph)."""
    nodes = np.fromiter(set(start) | set(allowed), dtype=np.int64)
    if not len(nodes):
        return set()
    nodes.sort()
    _, labels = connected_components(adjacency[nodes][:, nodes], directed=False)
    roots = labels[np.searchsorted(nodes, np.fromiter(start, dtype=np.int64))]
    return set(nodes[np.isin(labels, roots)].tolist())
