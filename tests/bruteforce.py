"""Brute force over every assignment of a tiny district: the true optimum of CONTRACT.md's problem.

Written independently of zoneopt's model, search and checker; it uses only the District's geometric
definitions (distances, adjacency, home units, islands).
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np


def brute_force(district, scenario):
    """Return (best objective, best assignment) over all feasible plans, or (inf, None)."""
    n, m = district.n_units, district.n_schools
    s, low = district.students.astype(float), district.low_income.astype(float)
    c, o = scenario.constraints, scenario.objective
    total = s.sum()
    big_l, big_n = low.sum(), total - low.sum()
    d = district.dist_km
    nearest = d.min(axis=1)
    sq = district.status_quo
    allowed = [
        [j for j in range(m)
         if math.isfinite(d[i, j]) and d[i, j] <= c.max_distance_km + 1e-9
         and d[i, j] - nearest[i] <= c.max_extra_distance_km + 1e-9
         and (district.locked[i] < 0 or district.locked[i] == j)]
        for i in range(n)
    ]
    for j in range(m):
        allowed[district.home_unit[j]] = [
            k for k in allowed[district.home_unit[j]] if k == district.home_owner[j]
        ]
    adj = district.adjacency
    nbrs = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(n)]
    islands = district.islands
    cap = district.capacity.astype(float)
    p = big_l / total if total else 0.0
    tiers = _tiers(district) if (o.balance == "tiers" or math.isfinite(c.tier_band)) else None
    best, best_plan = math.inf, None
    memo: dict = {}
    rows = itertools.product(*allowed)
    # Whole blocks of assignments at a time: the rules that are sums over units are array
    # arithmetic; contiguity, the tier rules and the tie order (the first plan of the least value,
    # in enumeration order) stay plain loops over the survivors.
    while True:
        block = np.array(list(itertools.islice(rows, 50_000)), dtype=np.int64).reshape(-1, n)
        if not len(block):
            break
        onehot = block[:, :, None] == np.arange(m)[None, None, :]  # (plans, units, schools)
        enr = (onehot * s[None, :, None]).sum(axis=1)
        lj = (onehot * low[None, :, None]).sum(axis=1)
        ok = ~((enr > cap * c.max_utilization + 1e-9).any(axis=1)
               | (enr < cap * c.min_utilization - 1e-9).any(axis=1))
        moved = ((block != sq[None, :]) * s[None, :]).sum(axis=1)
        ok &= ~(moved > c.max_moved_share * total + 1e-9)
        if math.isfinite(c.low_income_band):
            with np.errstate(invalid="ignore", divide="ignore"):
                sh = np.where(enr > 0, lj / np.where(enr > 0, enr, 1), p)
            ok &= ~(np.abs(sh - p) > c.low_income_band + 1e-9).any(axis=1)
        nj = enr - lj
        dval = (np.zeros(len(block)) if big_l == 0 or big_n == 0
                else 0.5 * np.abs(lj / big_l - nj / big_n).sum(axis=1))
        val = dval if o.balance == "dissimilarity" else np.zeros(len(block))
        val = val + o.distance_weight * (s[None, :] * d[np.arange(n)[None, :], block]).sum(axis=1) / total
        val = val + o.moved_weight * moved / total
        for r in np.flatnonzero(ok):
            a = block[r]
            if c.contiguity and not _contiguous(a, district, nbrs, islands, memo):
                continue
            if tiers is not None and math.isfinite(c.tier_band):
                if not _tier_band_ok(a, tiers, s, enr[r], c.tier_band):
                    continue
            v = float(val[r])
            if o.balance == "tiers":
                v += _tier_dissimilarity(a, tiers, s, m)
            if v < best - 1e-12:
                best, best_plan = v, a
    return best, best_plan


def _contiguous(a, district, nbrs, islands, memo=None):
    """Whether every school's zone (islands aside) is connected to its home unit.

    ``memo`` (a dict, one per district) remembers each school's verdict per zone: a brute force
    meets the same zone in thousands of plans, and the breadth-first search was most of its time.
    """
    bits = None if memo is None else np.bincount(
        a, weights=np.where(islands, 0.0, 2.0 ** np.arange(len(a))), minlength=district.n_schools)
    for j in range(district.n_schools):
        key = None if bits is None else (j, int(bits[j]))
        if key is not None and key in memo:
            if not memo[key]:
                return False
            continue
        zone = {i for i in np.flatnonzero(a == j) if not islands[i]}
        ok = True
        if zone:
            root = int(district.home_unit[j])
            seen, queue = {root}, deque([root])
            while queue:
                u = queue.popleft()
                for v in nbrs[u]:
                    if v in zone and v not in seen:
                        seen.add(int(v))
                        queue.append(int(v))
            ok = not (zone - seen)
        if key is not None:
            memo[key] = ok
        if not ok:
            return False
    return True


def _tiers(district):
    """Tier of each unit (0 for a unit with no tier), straight from the units' column."""
    raw = district.units["ses_tier"].to_numpy(dtype=float)
    return np.where(np.isnan(raw), 0, raw).astype(int)


def _tier_dissimilarity(a, tiers, s, m):
    """sum_j sum_k S_j |P_jk - P_k| / (2 S I), written out with loops."""
    total = s.sum()
    ks = sorted(set(tiers[s > 0].tolist()))
    p = {k: s[tiers == k].sum() / total for k in ks}
    index = sum(p[k] * (1 - p[k]) for k in ks)
    if index == 0:
        return 0.0
    acc = 0.0
    for j in range(m):
        sj = s[a == j].sum()
        if sj == 0:
            continue
        for k in ks:
            acc += sj * abs(s[(a == j) & (tiers == k)].sum() / sj - p[k])
    return acc / (2 * total * index)


def _tier_band_ok(a, tiers, s, enr, band):
    total = s.sum()
    for k in set(tiers[s > 0].tolist()):
        pk = s[tiers == k].sum() / total
        for j in range(len(enr)):
            if enr[j] > 0 and abs(s[(a == j) & (tiers == k)].sum() / enr[j] - pk) > band + 1e-9:
                return False
    return True


def brute_force_two_level(district, scenario, middle_points, middle_capacity, middle_students,
                          middle_low, groups=None):
    """The true optimum of the nested two-level problem (elementary plan x feeder map), or (inf, None).

    ``middle_points`` are shapely points in the district's CRS; ``groups`` lists unit positions of
    neighbourhoods that must go whole to one school. Independent of zoneopt's model and checker.
    """
    n, m, kk = district.n_units, district.n_schools, len(middle_points)
    f = scenario.feeders
    geoms = district.units.geometry.to_numpy()
    homes = [min(i for i in range(n) if geoms[i].intersects(p)) for p in middle_points]
    adj = district.adjacency
    nbrs = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(n)]
    ms, ml = np.asarray(middle_students, float), np.asarray(middle_low, float)
    best, best_plan = math.inf, None
    plans = _feasible_plans(district, scenario)
    for a, val in plans:
        if groups and any(len(set(a[g].tolist())) > 1 for g in groups):
            continue
        for feeds in itertools.product(range(kk), repeat=m):
            mid = np.asarray(feeds)[a]
            if any(mid[homes[k]] != k for k in range(kk)):
                continue
            enr = np.bincount(mid, weights=ms, minlength=kk)
            if (enr > np.asarray(middle_capacity) * f.middle_max_utilization + 1e-9).any():
                continue
            ok = True
            for k in range(kk):
                zone = set(np.flatnonzero(mid == k).tolist())
                seen, queue = {homes[k]}, deque([homes[k]])
                while queue:
                    u = queue.popleft()
                    for v in nbrs[u]:
                        if int(v) in zone and int(v) not in seen:
                            seen.add(int(v))
                            queue.append(int(v))
                if zone - seen:
                    ok = False
                    break
            if not ok:
                continue
            lo = np.bincount(mid, weights=ml, minlength=kk)
            ot = np.bincount(mid, weights=ms - ml, minlength=kk)
            dm = 0.0 if lo.sum() == 0 or ot.sum() == 0 else 0.5 * np.abs(
                lo / lo.sum() - ot / ot.sum()).sum()
            total = val + f.balance_weight * dm
            if total < best - 1e-12:
                best, best_plan = total, (a, np.asarray(feeds))
    return best, best_plan


def _feasible_plans(district, scenario):
    """Every feasible single-level plan with its objective (same rules as :func:`brute_force`)."""
    out = []
    n, m = district.n_units, district.n_schools
    s, low = district.students.astype(float), district.low_income.astype(float)
    c, o = scenario.constraints, scenario.objective
    total = s.sum()
    big_l, big_n = low.sum(), total - low.sum()
    d = district.dist_km
    nearest = d.min(axis=1)
    sq = district.status_quo
    allowed = [
        [j for j in range(m)
         if math.isfinite(d[i, j]) and d[i, j] <= c.max_distance_km + 1e-9
         and d[i, j] - nearest[i] <= c.max_extra_distance_km + 1e-9
         and (district.locked[i] < 0 or district.locked[i] == j)]
        for i in range(n)
    ]
    for j in range(m):
        allowed[district.home_unit[j]] = [
            k for k in allowed[district.home_unit[j]] if k == district.home_owner[j]
        ]
    adj = district.adjacency
    nbrs = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(n)]
    cap = district.capacity.astype(float)
    memo: dict = {}
    for combo in itertools.product(*allowed):
        a = np.array(combo)
        enr = np.bincount(a, weights=s, minlength=m)
        if (enr > cap * c.max_utilization + 1e-9).any():
            continue
        if s[a != sq].sum() > c.max_moved_share * total + 1e-9:
            continue
        if c.contiguity and not _contiguous(a, district, nbrs, district.islands, memo):
            continue
        lj = np.bincount(a, weights=low, minlength=m)
        nj = enr - lj
        val = 0.0 if big_l == 0 or big_n == 0 else 0.5 * np.abs(lj / big_l - nj / big_n).sum()
        val = val if o.balance == "dissimilarity" else 0.0
        val += o.distance_weight * (s * d[np.arange(n), a]).sum() / total
        val += o.moved_weight * s[a != sq].sum() / total
        out.append((a, val))
    return out


def _tier_d(district, a):
    """Multi-group dissimilarity of today's tier counts (CONTRACT.md's definition, worked out here
    from the units' ``ses_tier`` column)."""
    tier = district.units["ses_tier"].to_numpy(int)
    s = district.students.astype(float)
    m, k = district.n_schools, int(tier.max())
    cnt = np.zeros((m, k))
    for i in range(len(a)):
        cnt[a[i], tier[i] - 1] += s[i]
    big_s = cnt.sum()
    p = cnt.sum(axis=0) / big_s
    i_ = float((p * (1 - p)).sum())
    sj = cnt.sum(axis=1)
    share = np.divide(cnt, sj[:, None], out=np.zeros_like(cnt), where=sj[:, None] > 0)
    return float((sj[:, None] * np.abs(share - p[None, :])).sum() / (2 * big_s * i_))


def brute_force_years(district, scenario):
    """Like :func:`brute_force` for a scenario with ``[years] plan``: every plan year and series must
    fit its capacity, grandfathered cohorts counted at their status-quo school; the balance term is
    the mean (or one year's) dissimilarity on the first series. Reads the projections CSV itself.
    """
    import pandas as pd

    y, t, c, o = scenario.years, scenario.transition, scenario.constraints, scenario.objective
    proj = pd.read_csv(y.projections, dtype={"unit_id": str})
    if "series" not in proj:
        proj["series"] = "mid"
    if "grade" not in proj:
        proj["grade"] = -1
    proj = proj[proj["year"].isin(y.plan) & proj["series"].isin(y.series)]
    proj = proj[proj["grade"] <= t.top_grade]
    uidx = {u: i for i, u in enumerate(district.unit_ids)}
    kept_grades = set(t.grandfather_grades)
    records = [(uidx[r.unit_id], r.year, r.series,
                bool(kept_grades) and r.grade >= 0 and r.grade - (r.year - t.start_year) in kept_grades,
                r.students, r.low_income) for r in proj.itertuples()]
    n, m = district.n_units, district.n_schools
    d = district.dist_km
    nearest = d.min(axis=1)
    sq = district.status_quo
    s = district.students.astype(float)
    total = s.sum()
    allowed = [
        [j for j in range(m)
         if math.isfinite(d[i, j]) and d[i, j] <= c.max_distance_km + 1e-9
         and d[i, j] - nearest[i] <= c.max_extra_distance_km + 1e-9
         and (district.locked[i] < 0 or district.locked[i] == j)]
        for i in range(n)
    ]
    for j in range(m):
        allowed[district.home_unit[j]] = [
            k for k in allowed[district.home_unit[j]] if k == district.home_owner[j]]
    adj = district.adjacency
    nbrs = [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(n)]
    caps = {}
    for year in y.plan:
        cap = district.schools["capacity"].astype(float).to_numpy().copy()
        for col in sorted(cl for cl in district.schools.columns if str(cl).startswith("capacity_")):
            if int(col[9:]) <= year:
                vals = pd.to_numeric(district.schools[col], errors="coerce").to_numpy()
                cap = np.where(np.isnan(vals), cap, vals)
        caps[year] = cap
    balance_years = list(y.plan) if y.balance_year == "mean" else [int(y.balance_year)]
    best, best_plan = math.inf, None
    memo: dict = {}
    for combo in itertools.product(*allowed):
        a = np.array(combo)
        if c.contiguity and not _contiguous(a, district, nbrs, district.islands, memo):
            continue
        enr, low = {}, {}
        for i, year, ser, kept, st, lo in records:
            j = sq[i] if kept else a[i]
            enr.setdefault((year, ser), np.zeros(m))[j] += st
            low.setdefault((year, ser), np.zeros(m))[j] += lo
        if any((e > caps[yr] * c.max_utilization + 1e-9).any()
               or (e < caps[yr] * c.min_utilization - 1e-9).any() for (yr, _), e in enr.items()):
            continue
        moved = s[a != sq].sum()
        if moved > c.max_moved_share * total + 1e-9:
            continue
        ds = []
        for yr in balance_years:
            e, lo = enr[(yr, y.series[0])], low[(yr, y.series[0])]
            other = e - lo
            ds.append(0.0 if lo.sum() == 0 or other.sum() == 0
                      else 0.5 * np.abs(lo / lo.sum() - other / other.sum()).sum())
        val = float(np.mean(ds)) if o.balance == "dissimilarity" else 0.0
        if o.balance == "tiers":  # the projections carry no tiers: today's tier counts
            val += _tier_d(district, a)
        val += o.distance_weight * (s * d[np.arange(n), a]).sum() / total
        val += o.moved_weight * moved / total
        if val < best - 1e-12:
            best, best_plan = val, a
    return best, best_plan
