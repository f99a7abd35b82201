r"""A Lagrangian bound that relaxes only the assignment rows (and the district-wide moved budget).

With multipliers :math:`\lambda_i` on :math:`\sum_j x_{ij} = 1` and :math:`\mu \ge 0` on the moved
budget :math:`\sum_{j \ne q_i} s_i x_{ij} \le M`, the problem falls apart by school:

.. math::

    L(\lambda, \mu) = \sum_i \lambda_i - \mu M + \sum_j \min_{Z \in \mathcal Z_j}
        \Big[ c_D \big|\textstyle\sum_{i \in Z} a_i\big| + \sum_{i \in Z} (c_{ij} - \lambda_i
        + \mu s_i [j \ne q_i]) \Big]

where :math:`\mathcal Z_j` are school *j*'s allowed zones: eligible units only, its home unit, within
capacity and the low-income band, connected to the home unit (islands exempt). :math:`L \le` the
exact optimum for every :math:`\lambda` and :math:`\mu \ge 0` (weak duality). Each school's pricing
problem is an integer program (a knapsack with an absolute value and connectivity), solved by HiGHS
with a node cap; what counts is its *proven* lower bound (the MIP's dual bound), so :math:`L` stays
valid when a pricing problem stops early. Connectivity enters the pricing problem as neighbour rows
(each unit needs a zone neighbour) plus node-separator cuts (Validi, Buchanan & Lykhovyd 2022; the
cuts of :func:`zoneopt.model.separation_cuts`) separated on the pricing problem's own solutions;
they hold for every connected zone, so adding them keeps the bound valid.

Why it beats the LP: in the LP a school can be filled with fractions of units whose low-income
surpluses cancel, so the balance term vanishes; here every zone is a whole set of units, which
pays its own imbalance. Multipliers start at the LP's duals (then :math:`L \ge` the LP bound up to
the pricing problems' node caps) and improve by subgradient steps (Polyak's rule against the best
plan's value).
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
import scipy.sparse as sp

from ..district import District
from ..metrics import dissimilarity_scale
from ..model import RHS_EPS
from ..scenario import Scenario
from . import BoundResult
from ._highs import add_rows, has_solution, mip_dual_bound, new_highs, pass_arrays, run_highs

#: Branch-and-bound nodes per pricing solve: keeps each solve short and the bound repeatable.
PRICING_NODE_LIMIT = 50
#: Rounds of connectivity cuts per pricing solve.
PRICING_CUT_ROUNDS = 2
#: Subgradient iterations without a better bound before the step factor is halved.
STALL_ITERATIONS = 3
#: Relative safety margin on each pricing problem's bound (HiGHS's tolerances are ~1e-7..1e-9).
SAFETY = 1e-7


def lagrangian_bound(
    district: District,
    scenario: Scenario,
    eligible: np.ndarray,
    work_limit: int = 30,
    *,
    duals: np.ndarray | None = None,
    moved_dual: float = 0.0,
    upper: float | None = None,
    deadline: float | None = None,
    node_limit: int = PRICING_NODE_LIMIT,
    on_bound=None,
) -> BoundResult:
    """The best Lagrangian bound over ``work_limit`` subgradient iterations.

    Parameters
    ----------
    district, scenario, eligible
        The problem and its eligible pairs.
    work_limit
        Subgradient iterations (each solves every school's pricing problem once).
    duals, moved_dual
        Starting multipliers (e.g. the root LP's duals, :func:`zoneopt.bounds.lp.root_lp_bound`).
    upper
        Objective of the best known plan: the target of the step rule, and where to stop.
    deadline
        ``time.perf_counter()`` value at which to stop early (the bound so far stays valid).
    node_limit
        Nodes per pricing solve.
    on_bound
        Called with each improved bound (a float), e.g. to put it in the trace.

    Returns
    -------
    BoundResult
        ``detail``: iterations, pricing solves, seconds, and ``best_multipliers``.
    """
    t0 = time.perf_counter()
    skipped = _not_modelled(scenario)
    if skipped:
        return BoundResult(-math.inf, "lagrangian", {"skipped": skipped})
    n, m = district.n_units, district.n_schools
    s = district.students.astype(float)
    total_students = s.sum()
    c = scenario.constraints
    sq = district.status_quo
    use_moved_row = c.max_moved_share < 1
    budget = c.max_moved_share * total_students if use_moved_row else 0.0
    schools = [_Pricing(district, scenario, eligible, j, node_limit) for j in range(m)]
    lam = np.zeros(n) if duals is None else np.asarray(duals, dtype=float).copy()
    mu = max(0.0, float(moved_dual)) if use_moved_row else 0.0
    best, best_lam, theta, stall = -math.inf, lam.copy(), 1.0, 0
    solves = 0
    iterations = 0
    moved_w = s * 0.0
    for it in range(int(work_limit)):
        if deadline is not None and time.perf_counter() >= deadline:
            break
        iterations = it + 1
        value = float(lam.sum()) - mu * budget
        cover = np.zeros(n)
        moved_hat = 0.0
        safety = SAFETY * (1.0 + float(np.abs(lam).sum()))
        for p in schools:
            if deadline is not None and time.perf_counter() >= deadline:
                value = -math.inf  # an iteration cut short proves nothing; the best so far stands
                break
            moved_w = s * (p.j != sq) if use_moved_row else moved_w
            lb, chosen = p.solve(lam, mu * moved_w if use_moved_row else None)
            solves += p.last_solves
            value += lb
            if chosen is not None:
                cover[chosen] += 1
                if use_moved_row:
                    moved_hat += float(moved_w[chosen].sum())
        value -= safety * m
        if value == -math.inf and deadline is not None and time.perf_counter() >= deadline:
            break
        if not math.isfinite(value):
            if value == math.inf:  # a school has no allowed zone at all: the scenario is infeasible
                return BoundResult(math.inf, "lagrangian", {"iterations": iterations,
                                                            "seconds": time.perf_counter() - t0})
            break
        if value > best + 1e-12:
            best, best_lam, stall = value, lam.copy(), 0
            if on_bound is not None:
                on_bound(best)
        else:
            stall += 1
            if stall >= STALL_ITERATIONS:
                theta, stall = theta / 2, 0
        if upper is not None and best >= upper - 1e-9 * max(1.0, abs(upper)):
            break
        g = 1.0 - cover
        g_mu = moved_hat - budget if use_moved_row else 0.0
        norm = float(g @ g) + g_mu * g_mu
        if norm <= 1e-12:
            break  # the pricing solutions form a plan: nothing left to gain by moving multipliers
        target = upper if upper is not None and upper > value else value + 0.05 * abs(value) + 1e-4
        step = theta * (target - value) / norm
        lam = lam + step * g
        if use_moved_row:
            mu = max(0.0, mu + step * g_mu)
    detail = {"iterations": iterations, "pricing_solves": solves,
              "seconds": time.perf_counter() - t0, "best_multipliers": best_lam}
    return BoundResult(best if best > -math.inf else -math.inf, "lagrangian", detail)


def _not_modelled(scenario: Scenario) -> str:
    """Why the pricing problems would not price this scenario's objective exactly ('' if they do).

    Leaving out rows keeps the bound valid, and so does leaving out a non-negative objective term
    (tier balance); but a *different* balance term (the mean over plan years) would not be a bound.
    """
    years = getattr(scenario, "years", None)
    if scenario.objective.balance == "dissimilarity" and years is not None and getattr(
            years, "plan", ()):
        return "the balance objective is taken over the plan years, which the pricing omits"
    return ""


class _Pricing:
    """School j's pricing problem, kept alive in HiGHS between iterations (costs change, cuts add up)."""

    def __init__(self, district: District, scenario: Scenario, eligible: np.ndarray, j: int,
                 node_limit: int) -> None:
        self.j = j
        c, o = scenario.constraints, scenario.objective
        s = district.students.astype(float)
        low = district.low_income.astype(float)
        total = s.sum()
        p_bar = low.sum() / total if total else 0.0
        self.contiguity = c.contiguity
        self.islands = district.islands
        self.nbrs = district.neighbors
        home = int(district.home_unit[j])
        self.owner = int(district.home_owner[j]) == j
        # The zone grows from its home unit; a school sharing another's home unit grows from the
        # units touching it (the contract: its zone must touch that unit).
        self.root = home
        units = np.flatnonzero(eligible[:, j])
        if c.contiguity:
            units = self._reachable(units, home)
        self.units = units
        k = len(units)
        self.col_of = {int(u): idx for idx, u in enumerate(units)}
        scale = dissimilarity_scale(district.students, district.low_income) if (
            o.balance == "dissimilarity") else 0.0
        self.has_t = scale > 0
        base = np.zeros(k)
        if total > 0 and o.distance_weight:
            base += o.distance_weight * s[units] * district.dist_km[units, j] / total
        if total > 0 and o.moved_weight:
            base += o.moved_weight * s[units] * (district.status_quo[units] != j) / total
        self.base = base
        n_cols = k + (1 if self.has_t else 0)
        cost = np.concatenate([base, [scale]]) if self.has_t else base.copy()
        lower = np.zeros(n_cols)
        upper = np.ones(n_cols)
        if self.has_t:
            upper[-1] = np.inf
        if self.owner and home in self.col_of:
            lower[self.col_of[home]] = 1.0
        r, cidx, v, lo, hi = [], [], [], [], []

        def row(cols, vals, lo_, hi_):
            r.extend([len(lo)] * len(cols))
            cidx.extend(cols)
            v.extend(vals)
            lo.append(lo_)
            hi.append(hi_)

        cap = float(district.capacity[j])
        cap_hi = math.floor(cap * c.max_utilization + RHS_EPS)
        cap_lo = math.ceil(cap * c.min_utilization - RHS_EPS) if c.min_utilization > 0 else -np.inf
        row(range(k), s[units], cap_lo, cap_hi)
        if self.has_t:
            a = low[units] - p_bar * s[units]
            row(list(range(k)) + [k], list(-a) + [1.0], 0.0, np.inf)
            row(list(range(k)) + [k], list(a) + [1.0], 0.0, np.inf)
        if math.isfinite(c.low_income_band):
            b = c.low_income_band
            row(range(k), low[units] - (p_bar + b) * s[units], -np.inf, RHS_EPS)
            row(range(k), low[units] - (p_bar - b) * s[units], -RHS_EPS, np.inf)
        if c.contiguity:
            for idx, u in enumerate(units.tolist()):
                if self.islands[u] or u == home:
                    continue
                nb = self.nbrs[u]
                if not self.owner and (nb == home).any():
                    continue  # touches the shared home unit: connected through it
                cols = [self.col_of[int(x)] for x in nb if int(x) in self.col_of]
                row([idx] + cols, [1.0] + [-1.0] * len(cols), -np.inf, 0.0)
        a_mat = sp.csr_matrix((v, (r, cidx)), shape=(len(lo), n_cols))
        integer = np.zeros(n_cols, dtype=bool)
        integer[:k] = True
        self.h = new_highs(node_limit=node_limit, mip_gap=1e-6, threads=scenario.solver.threads)
        pass_arrays(self.h, cost, lower, upper, a_mat, lo, hi, integer=integer)
        self.n_cols = n_cols
        self.k = k
        self.last_solves = 0

    def _reachable(self, units: np.ndarray, home: int) -> np.ndarray:
        """Eligible units connected to the home unit through eligible units (islands kept)."""
        allowed = set(units.tolist())
        if self.owner:
            start = {home} if home in allowed else set()
        else:
            start = {int(x) for x in self.nbrs[home] if int(x) in allowed}
        seen, queue = set(start), deque(start)
        while queue:
            u = queue.popleft()
            for x in self.nbrs[u]:
                x = int(x)
                if x in allowed and x not in seen and not self.islands[x]:
                    seen.add(x)
                    queue.append(x)
        seen |= {u for u in allowed if self.islands[u]}
        return np.array(sorted(seen), dtype=np.int64)

    def solve(self, lam: np.ndarray, moved_cost: np.ndarray | None) -> tuple[float, np.ndarray | None]:
        """Proven lower bound of this school's pricing problem and its best zone (unit positions)."""
        self.last_solves = 0
        if self.k == 0:
            return (0.0, np.zeros(0, dtype=np.int64)) if self.owner or True else (math.inf, None)
        costs = self.base - lam[self.units]
        if moved_cost is not None:
            costs = costs + moved_cost[self.units]
        self.h.changeColsCost(self.k, np.arange(self.k, dtype=np.int32), costs.astype(float))
        best_lb, chosen = -math.inf, None
        for _ in range(PRICING_CUT_ROUNDS if self.contiguity else 1):
            run_highs(self.h)
            self.last_solves += 1
            lb = mip_dual_bound(self.h)
            best_lb = max(best_lb, lb)  # every round's bound is valid; cuts only raise it
            if not has_solution(self.h):
                break
            x = np.asarray(self.h.getSolution().col_value[: self.k]) > 0.5
            chosen = self.units[x]
            if not self.contiguity:
                break
            cuts = self._cuts(chosen)
            if cuts is None:
                break
            add_rows(self.h, *cuts)
        if math.isfinite(best_lb):
            best_lb -= SAFETY * max(1.0, abs(best_lb))
        return best_lb, chosen

    def _cuts(self, chosen: np.ndarray):
        """Separator rows for each piece of the zone not connected to the home unit, or None."""
        zone = {int(u) for u in chosen if not self.islands[u]}
        home = self.root
        if self.owner:
            start = {home}
        else:
            start = {u for u in zone if (self.nbrs[u] == home).any()}
        seen, queue = set(start), deque(start)
        while queue:
            u = queue.popleft()
            for x in self.nbrs[u]:
                x = int(x)
                if x in zone and x not in seen:
                    seen.add(x)
                    queue.append(x)
        rest = zone - seen
        if not rest:
            return None
        r, cidx, v = [], [], []
        n_rows = 0
        while rest:
            first = min(rest)
            piece, queue = {first}, deque([first])
            while queue:
                u = queue.popleft()
                for x in self.nbrs[u]:
                    x = int(x)
                    if x in rest and x not in piece:
                        piece.add(x)
                        queue.append(x)
            rest -= piece
            boundary = sorted({int(x) for u in piece for x in self.nbrs[u]
                               if int(x) not in piece and int(x) in self.col_of})
            bcols = [self.col_of[x] for x in boundary]
            for a in sorted(piece):
                r.extend([n_rows] * (1 + len(bcols)))
                cidx.extend([self.col_of[a]] + bcols)
                v.extend([1.0] + [-1.0] * len(bcols))
                n_rows += 1
        rows = sp.csr_matrix((v, (r, cidx)), shape=(n_rows, self.n_cols))
        return rows, np.full(n_rows, -np.inf), np.zeros(n_rows)
