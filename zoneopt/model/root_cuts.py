r"""Node-separator cuts separated on the *fractional* LP solution, before any branching.

The exact problem's contiguity rows are the node-separator inequalities of Validi, Buchanan &
Lykhovyd (2022): for a unit :math:`a` of zone :math:`j` and any set :math:`C` of units that separates
:math:`a` from :math:`j`'s home unit :math:`r_j`,

.. math:: x_{aj} \le \sum_{k \in C} x_{kj}.

:func:`zoneopt.model.separation_cuts` adds them for the pieces of an *integer* plan. Separated on the
LP's fractional :math:`x`, they say more: a school that takes a share :math:`\theta` of a far unit must
take at least :math:`\theta` of every unit on some path to its home, and pay for it in seats. The
most violated cut of a pair :math:`(a, j)` is a minimum vertex cut between :math:`a` and :math:`r_j`
with capacities :math:`x_{kj}`, found by a maximum flow on the split graph (each unit an in-node and
an out-node joined by an arc of capacity :math:`x_{kj}`; neighbours joined by uncapacitated arcs):
a flow below :math:`x_{aj}` means a violated cut, and the units whose in-node the residual graph
reaches but whose out-node it does not form :math:`C`.

On districts whose distance limits leave each school a few dozen units the rounds raise the LP
bound by 3-5% within two seconds (300 units x 15 schools, 1.5 km extra distance: 0.2125 -> 0.2201,
after which HiGHS solves the relaxation at its root node); where every school may take most of the
district the LP barely moves (2 km: 0.0831 -> 0.0839 in 40 rounds), so the rounds stop when they
stop paying. Every cut is checked to be a true separator in the unit graph before it is kept, so
its validity never rests on the flow's floating-point arithmetic. The maximum flows come from
:func:`scipy.sparse.csgraph.maximum_flow` (integer capacities: the LP values are scaled).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from ..district import District

#: LP rounds at most (each: solve the LP, separate, add the cuts).
ROOT_CUT_ROUNDS = 25
#: A pair is separated only when the LP gives it at least this share of the unit; a cut is kept only
#: when it is violated by at least this much.
MIN_VIOLATION = 1e-3
#: The rounds stop after this many rounds in a row that raised the LP value by less than
#: MIN_RELATIVE_GAIN (relative).
STALL_ROUNDS = 4
MIN_RELATIVE_GAIN = 1e-3
#: A cut whose activity lies this far below its bound at the last LP, with a zero dual, is dropped
#: when the rounds end (it stays valid; it only slows every node's LP).
DROP_SLACK = 1e-7


def fractional_separator_cuts(
    district: District, model, values: np.ndarray, *, min_violation: float = MIN_VIOLATION,
    schools: np.ndarray | None = None,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Violated node-separator rows for the fractional solution ``values`` of ``model``.

    Parameters
    ----------
    district
        The district (its unit graph, home units and islands).
    model
        A whole-district :class:`zoneopt.model.Model` (``part=None``).
    values
        A solution of the model's LP (one value per column).
    min_violation
        Smallest violation of a kept cut.
    schools
        Separate only the rows of these school positions (None: every school of the model).

    Returns
    -------
    rows, lower, upper
        CSR rows over the model's columns, :math:`x_{aj} - \\sum_{k\\in C} x_{kj} \\le 0`.
    """
    n, m = district.n_units, district.n_schools
    pu, ps = model.pair_unit, model.pair_school
    k = model.n_pairs
    col = np.full((n, m), -1, dtype=np.int64)
    col[pu, ps] = np.arange(k)
    x = np.zeros((n, m))
    x[pu, ps] = np.clip(np.asarray(values[:k], dtype=float), 0.0, 1.0)
    adj = district.adjacency.tocoo()
    islands = district.islands
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    n_rows = 0
    which = np.unique(ps) if schools is None else np.intersect1d(np.unique(ps), schools)
    for j in which.tolist():
        home = int(district.home_unit[j])
        nodes = np.union1d(np.flatnonzero(col[:, j] >= 0), [home])
        pos = np.full(n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        cand = [int(u) for u in nodes if u != home and not islands[u] and x[u, j] > min_violation]
        if not cand:
            continue
        nu = len(nodes)
        # Integer capacities: the flow is at most nu * scale, and the uncapacitated arcs must stay
        # above any cut, all within int32.
        scale = min(10**6, (2**31 - 2) // (4 * (nu + 2)))
        big = nu * scale + 1
        keep = (pos[adj.row] >= 0) & (pos[adj.col] >= 0)
        a, b = pos[adj.row[keep]], pos[adj.col[keep]]
        node_cap = np.floor(x[nodes, j] * scale).astype(np.int64)
        hp = int(pos[home])
        node_cap[hp] = big
        src = np.concatenate([2 * np.arange(nu), 2 * a + 1])
        dst = np.concatenate([2 * np.arange(nu) + 1, 2 * b])
        cap = np.concatenate([node_cap, np.full(len(a), big)]).astype(np.int32)
        graph = sp.csr_matrix((cap, (src, dst)), shape=(2 * nu, 2 * nu))
        local = [[] for _ in range(nu)]  # the units' neighbours among these nodes, by position
        for x_, y_ in zip(a.tolist(), b.tolist(), strict=True):
            local[x_].append(y_)
        for u in sorted(cand, key=lambda u: (-x[u, j], u)):
            p = int(pos[u])
            need = x[u, j]
            flow = maximum_flow(graph, 2 * p + 1, 2 * hp)
            if flow.flow_value >= (need - min_violation) * scale:
                continue
            residual = (graph - flow.flow).tocsr()
            residual.data = (residual.data > 0).astype(np.int8)
            residual.eliminate_zeros()
            reach = np.zeros(2 * nu, dtype=bool)
            reach[breadth_first_order(residual, 2 * p + 1, directed=True,
                                      return_predecessors=False)] = True
            cut = np.flatnonzero(reach[0::2] & ~reach[1::2])
            cut = cut[cut != p]
            if x[nodes[cut], j].sum() > need - min_violation:
                continue
            if not _separates(local, p, hp, cut):
                continue  # the flow's arithmetic misled it: keep only true separators
            cols = col[nodes[cut], j]
            cols = cols[cols >= 0]  # units not eligible for j are never in zone j
            r_idx.extend([n_rows] * (1 + len(cols)))
            c_idx.extend([int(col[u, j])] + cols.tolist())
            vals.extend([1.0] + [-1.0] * len(cols))
            n_rows += 1
    rows = sp.csr_matrix((vals, (r_idx, c_idx)), shape=(n_rows, len(model.cost)))
    return rows, np.full(n_rows, -np.inf), np.zeros(n_rows)


def _separates(local: list[list[int]], unit: int, home: int, cut: np.ndarray) -> bool:
    """Whether every path from ``unit`` to ``home`` in the graph ``local`` (neighbour lists by
    position) passes through a node of ``cut`` (a breadth-first search, independent of the flow)."""
    blocked = set(cut.tolist())
    if home in blocked:
        return False
    seen, queue = {unit}, deque([unit])
    while queue:
        v = queue.popleft()
        for w in local[v]:
            if w == home:
                return False
            if w not in seen and w not in blocked:
                seen.add(w)
                queue.append(w)
    return True


def strengthen_root(
    district: District, model, *, rounds: int = ROOT_CUT_ROUNDS, threads: int = 0,
    should_stop=None,
) -> tuple[float, int, int]:
    """Add fractional separator cuts to ``model`` (in place) round by round; the last LP value.

    Parameters
    ----------
    district, model
        The district and its whole-district model (``contiguity="neighbour"``, the exact problem's
        relaxation); the cuts are appended to ``model``'s rows.
    rounds
        LP rounds at most (counted work: the same input gives the same cuts on any machine).
    threads
        HiGHS threads.
    should_stop
        Polled between rounds (a deadline or Ctrl-C).

    Returns
    -------
    lp_value, cuts_kept, rounds_run
        ``lp_value`` is the LP optimum with every cut added so far (a lower bound on the exact
        problem; ``-inf`` when no LP was solved to optimality). When the rounds end (not stopped by
        ``should_stop``), the cuts the last LP leaves slack are removed from ``model`` again:
        ``cuts_kept`` counts those that stay.
    """
    import highspy

    from ..bounds._highs import add_rows, new_highs, pass_arrays, run_highs

    h = new_highs(threads=threads)
    pass_arrays(h, model.cost, model.lower, model.upper, model.rows, model.row_lower,
                model.row_upper)
    base = model.rows.shape[0]
    best, added, stall, done, stale = -np.inf, 0, 0, 0, False
    for _ in range(int(rounds)):
        if should_stop is not None and should_stop():
            break
        run_highs(h)
        stale = False
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        done += 1
        value = float(h.getInfo().objective_function_value)
        gain = value - best if np.isfinite(best) else np.inf
        best = max(best, value)
        stall = stall + 1 if gain < MIN_RELATIVE_GAIN * max(abs(value), 1e-9) else 0
        if stall >= STALL_ROUNDS:
            break
        rows, lo, hi = fractional_separator_cuts(district, model,
                                                 np.asarray(h.getSolution().col_value))
        if rows.shape[0] == 0:
            break
        add_rows(h, rows, lo, hi)
        model.add_rows(rows, lo, hi)
        added += rows.shape[0]
        stale = True
    if added and not (stale and should_stop is not None and should_stop()):
        if stale:  # the rounds ran out with cuts the LP has not seen: one more (warm) solve
            run_highs(h)
            if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                done += 1
                best = max(best, float(h.getInfo().objective_function_value))
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            added -= _drop_slack_cuts(h, model, base)
    return best, added, done


def _drop_slack_cuts(h, model, base: int) -> int:
    """Remove from ``model`` the cuts (rows from ``base`` on) that ``h``'s optimal LP leaves slack;
    the number removed.

    The LP's optimum stays optimal without them (a slack row has a zero dual), so the root bound is
    unchanged; what changes is every node's LP. On 300 units x 15 schools at 3 km the rounds keep
    about 7,600 cuts of which about 1,200 bind, and HiGHS spent a whole 55-s round in its root's
    own separation without reaching a node; with the binding ones only, a 72-node round takes 5 s.
    """
    from ..bounds._highs import slack_rows

    drop = slack_rows(h, base, model.row_upper[base:], DROP_SLACK)
    if not len(drop):
        return 0
    keep = np.ones(model.rows.shape[0], dtype=bool)
    keep[drop] = False
    model.keep_rows(keep)
    return len(drop)
