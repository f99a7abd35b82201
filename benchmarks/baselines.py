"""The straightforward formulation, solved by CBC, HiGHS (both through PuLP) and OR-Tools CP-SAT.

These are the reference points zoneopt is judged against, so they are written the way a careful
analyst would write them from the literature (Gillani et al. 2023), and depend on nothing inside
zoneopt: this module re-derives distances, adjacency and home units from CONTRACT.md's definitions.

The model, for units i, schools j and eligible pairs (i, j):

* ``x[i,j]`` binary, one per eligible pair; a pair is eligible when the distance from the unit to
  the school is at most the distance to its nearest school + ``max_extra_distance_km``;
* every unit in exactly one zone: ``sum_j x[i,j] = 1``;
* the home unit of each school (the unit its point falls in) is fixed to it: ``x[h_j,j] = 1``;
* capacity: ``sum_i students_i x[i,j] <= capacity_j * max_utilization``;
* closer-neighbour contiguity by hop distance from the school's home unit:
  ``x[i,j] <= sum x[k,j]`` over neighbours k of i with a smaller hop distance to ``h_j``
  (a sufficient, not necessary, condition for connected zones);
* objective, the exact dissimilarity index: with ``L_j``, ``S_j`` the low-income and all students
  of school j, ``p = L/S``, ``t_j >= +/-(L_j - p S_j)`` and minimise ``S/(2LN) sum_j t_j``.

CP-SAT gets the same model with the objective multiplied out to integers
(``S l_i - L s_i`` per unit, divided by ``2LN`` afterwards), the status quo as a hint, 2 workers.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import warnings
from collections import deque
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = [
    "Instance",
    "BaselineResult",
    "prepare",
    "rook_neighbours",
    "eligible_pairs",
    "hop_distances",
    "dissimilarity",
    "check_assignment",
    "solve_pulp",
    "solve_cpsat",
]

# CONTRACT.md: neighbours share a boundary at least 1 cm long after projection.
MIN_SHARED_M = 0.01


@dataclass
class Instance:
    """A district as plain arrays, indexed by unit and school position.

    Attributes
    ----------
    unit_ids, school_ids
        Ids as text, in input order.
    students, low_income
        Integer arrays per unit.
    capacity
        Capacity per school.
    dist_km
        Distance matrix, units x schools, centroid to school point in the local UTM CRS.
    neighbours
        Rook neighbours per unit (arrays of unit positions).
    home
        Home unit position of each school; ``home_owner[j]`` is the school that owns ``home[j]``
        (j itself unless two schools share a unit).
    status_quo
        School position per unit (``current_school`` or the nearest school).
    locked
        School position each unit is locked to, or -1.
    """

    unit_ids: np.ndarray
    school_ids: np.ndarray
    students: np.ndarray
    low_income: np.ndarray
    capacity: np.ndarray
    dist_km: np.ndarray
    neighbours: list[np.ndarray]
    home: np.ndarray
    home_owner: np.ndarray
    status_quo: np.ndarray
    locked: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_schools(self) -> int:
        return len(self.school_ids)


@dataclass
class BaselineResult:
    """What one baseline solve produced.

    Attributes
    ----------
    method
        ``"cbc"``, ``"highs"`` or ``"cpsat"``.
    assignment
        ``unit_id -> school_id`` or None when the solver returned no plan.
    status
        ``"optimal"`` (proved within the gap), ``"feasible"``, ``"infeasible"`` or
        ``"no_solution"``.
    dissimilarity
        D of the returned plan, recomputed from the assignment.
    bound
        The solver's proven lower bound on D (for this restricted model), or None.
    build_seconds
        Preparation (distances, adjacency, hop distances) plus model construction.
    solve_seconds
        Wall time of the solver call, including PuLP's hand-over to the solver.
    solver_seconds
        The solver's own wall clock, when it reports one (``solve_seconds`` minus this is the
        hand-over: writing and reading files for CBC, copying the model into highspy).
    incumbents
        ``(seconds, D, bound)`` for each improving plan the solver reported, seconds on the
        solver's own clock; empty when the solver does not expose them.
    n_variables, n_constraints
        Size of the model.
    """

    method: str
    assignment: pd.Series | None
    status: str
    dissimilarity: float | None
    bound: float | None
    build_seconds: float
    solve_seconds: float
    incumbents: list[tuple[float, float, float | None]] = field(default_factory=list)
    n_variables: int = 0
    n_constraints: int = 0
    solver_seconds: float | None = None


# ---------------------------------------------------------------------------------------------
# Geometry: CONTRACT.md's definitions, independently of zoneopt.


def _school_points(schools: pd.DataFrame) -> gpd.GeoSeries:
    if isinstance(schools, gpd.GeoDataFrame) and schools.geometry.name in schools:
        return schools.geometry
    return gpd.GeoSeries(
        gpd.points_from_xy(schools["lon"].astype(float), schools["lat"].astype(float)),
        crs="EPSG:4326",
        index=schools.index,
    )


def rook_neighbours(geoms: np.ndarray, min_shared: float = MIN_SHARED_M) -> list[np.ndarray]:
    """Rook neighbours: polygons sharing a boundary at least ``min_shared`` metres long.

    Parameters
    ----------
    geoms
        Projected polygons (metres).
    min_shared
        Shortest shared boundary that counts.

    Returns
    -------
    list of numpy.ndarray
        For each polygon, the sorted positions of its neighbours.
    """
    geoms = np.asarray(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    bounds = shapely.boundary(geoms)
    shared = shapely.length(shapely.intersection(bounds[a], bounds[b]))
    # Real boundary files do not always repeat vertices bit for bit; measure those pairs again
    # against a 1 mm tolerance so a shared edge is not lost to rounding noise.
    unsure = shared < min_shared
    if unsure.any():
        near = shapely.buffer(bounds[b[unsure]], 0.001, cap_style="flat")
        shared[unsure] = shapely.length(shapely.intersection(bounds[a[unsure]], near))
    ok = shared >= min_shared
    a, b = a[ok], b[ok]
    n = len(geoms)
    src = np.concatenate([a, b])
    dst = np.concatenate([b, a])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    cuts = np.searchsorted(src, np.arange(n + 1))
    return [dst[cuts[i] : cuts[i + 1]] for i in range(n)]


def prepare(units: gpd.GeoDataFrame, schools: pd.DataFrame) -> Instance:
    """Arrays of a district: projection, distances, adjacency, home units, status quo.

    Parameters
    ----------
    units
        Units in the input format of CONTRACT.md (not modified).
    schools
        Schools as points or as a table with ``lon``/``lat`` (not modified).

    Returns
    -------
    Instance
    """
    utm = units.estimate_utm_crs()
    u = units.to_crs(utm)
    pts = _school_points(schools).to_crs(utm)
    geoms = np.asarray(u.geometry.values, dtype=object)
    cxy = shapely.get_coordinates(shapely.centroid(geoms))
    sxy = shapely.get_coordinates(np.asarray(pts.values, dtype=object))
    dist = np.sqrt(((cxy[:, None, :] - sxy[None, :, :]) ** 2).sum(axis=2)) / 1000.0

    unit_ids = u["unit_id"].astype(str).to_numpy()
    school_ids = schools["school_id"].astype(str).to_numpy()
    sidx = {s: j for j, s in enumerate(school_ids)}

    tree = shapely.STRtree(geoms)
    s_pos, u_pos = tree.query(np.asarray(pts.values, dtype=object), predicate="intersects")
    home = np.full(len(school_ids), -1)
    for j, i in zip(s_pos, u_pos, strict=True):
        if home[j] < 0:
            home[j] = i
    if (home < 0).any():
        bad = school_ids[home < 0][0]
        raise ValueError(f"school {bad} falls in no unit")
    owner_of_unit: dict[int, int] = {}
    home_owner = np.empty(len(school_ids), dtype=int)
    for j, i in enumerate(home):
        home_owner[j] = owner_of_unit.setdefault(int(i), j)

    nearest = dist.argmin(axis=1)
    status_quo = nearest.copy()
    if "current_school" in u:
        cur = u["current_school"]
        for i, s in enumerate(cur):
            if pd.notna(s) and str(s) in sidx:
                status_quo[i] = sidx[str(s)]
    locked = np.full(len(unit_ids), -1)
    if "locked_school" in u:
        for i, s in enumerate(u["locked_school"]):
            if pd.notna(s) and str(s) in sidx:
                locked[i] = sidx[str(s)]

    return Instance(
        unit_ids=unit_ids,
        school_ids=school_ids,
        students=u["students"].to_numpy(dtype=np.int64),
        low_income=u["low_income"].to_numpy(dtype=np.int64),
        capacity=schools["capacity"].to_numpy(dtype=float),
        dist_km=dist,
        neighbours=rook_neighbours(geoms),
        home=home,
        home_owner=home_owner,
        status_quo=status_quo,
        locked=locked,
    )


def eligible_pairs(inst: Instance, max_extra_distance_km: float) -> np.ndarray:
    """Boolean units x schools mask of the pairs that get a variable.

    A pair is eligible when its distance is within the nearest school's + the allowance; home
    units and locked units are always eligible for their school.
    """
    nearest = inst.dist_km.min(axis=1, keepdims=True)
    elig = inst.dist_km <= nearest + max_extra_distance_km + 1e-9
    elig[inst.home, np.arange(inst.n_schools)] = True
    lk = np.flatnonzero(inst.locked >= 0)
    elig[lk, inst.locked[lk]] = True
    return elig


def hop_distances(inst: Instance) -> np.ndarray:
    """Hop distance (schools x units) from each school's home unit; -1 where unreachable."""
    n = inst.n_units
    hops = np.full((inst.n_schools, n), -1, dtype=np.int64)
    done: dict[int, np.ndarray] = {}
    for j, h in enumerate(inst.home):
        h = int(h)
        if h not in done:
            d = np.full(n, -1, dtype=np.int64)
            d[h] = 0
            q = deque([h])
            while q:
                v = q.popleft()
                for w in inst.neighbours[v]:
                    if d[w] < 0:
                        d[w] = d[v] + 1
                        q.append(w)
            done[h] = d
        hops[j] = done[h]
    return hops


def _components(inst: Instance) -> np.ndarray:
    comp = np.full(inst.n_units, -1)
    c = 0
    for s in range(inst.n_units):
        if comp[s] >= 0:
            continue
        comp[s] = c
        q = deque([s])
        while q:
            v = q.popleft()
            for w in inst.neighbours[v]:
                if comp[w] < 0:
                    comp[w] = c
                    q.append(w)
        c += 1
    return comp


def _contiguity_rows(inst: Instance, elig: np.ndarray):
    """For each eligible pair that needs one, the eligible closer neighbours it must lean on.

    Yields ``(i, j, preds)``. Units in an adjacency component that holds no school (islands) are
    exempt; a pair whose unit cannot reach the school's home unit gets ``preds = []`` (so x = 0).
    A school sharing its home unit with another may start from any unit touching that unit.
    """
    hops = hop_distances(inst)
    comp = _components(inst)
    has_school = np.zeros(comp.max() + 1, dtype=bool)
    has_school[comp[inst.home]] = True
    for j in range(inst.n_schools):
        h = int(inst.home[j])
        shared_home = inst.home_owner[j] != j
        hj = hops[j]
        for i in np.flatnonzero(elig[:, j]):
            if i == h or not has_school[comp[i]]:
                continue
            if hj[i] < 0:
                yield i, j, []
                continue
            if shared_home and hj[i] == 1:
                continue
            nb = inst.neighbours[i]
            preds = [int(k) for k in nb if hj[k] == hj[i] - 1 and elig[k, j]]
            if shared_home:
                preds = [k for k in preds if k != h]
            yield int(i), j, preds


# ---------------------------------------------------------------------------------------------
# Figures and an independent plan check (used by the tests and as a fallback in the harness).


def dissimilarity(inst: Instance, school_of_unit: np.ndarray) -> float:
    """CONTRACT.md's dissimilarity index of an assignment given as school positions per unit."""
    low = inst.low_income.astype(float)
    oth = (inst.students - inst.low_income).astype(float)
    lj = np.bincount(school_of_unit, weights=low, minlength=inst.n_schools)
    nj = np.bincount(school_of_unit, weights=oth, minlength=inst.n_schools)
    total_l, total_n = low.sum(), oth.sum()
    if total_l == 0 or total_n == 0:
        return 0.0
    return float(0.5 * np.abs(lj / total_l - nj / total_n).sum())


def check_assignment(
    inst: Instance,
    assignment: pd.Series,
    *,
    max_extra_distance_km: float = np.inf,
    max_utilization: float = 1.0,
) -> list[str]:
    """Violations of capacity, distance, home units and exact contiguity; empty when the plan holds.

    Parameters
    ----------
    inst
        The district.
    assignment
        ``unit_id -> school_id`` for every unit.
    max_extra_distance_km, max_utilization
        The scenario's limits.

    Returns
    -------
    list of str
        One message per violation.
    """
    out: list[str] = []
    sidx = {s: j for j, s in enumerate(inst.school_ids)}
    a = assignment.reindex(inst.unit_ids)
    if a.isna().any():
        return [f"{int(a.isna().sum())} units have no school"]
    try:
        sch = np.array([sidx[str(s)] for s in a.to_numpy()])
    except KeyError as exc:
        return [f"unknown school {exc.args[0]}"]
    enrol = np.bincount(sch, weights=inst.students, minlength=inst.n_schools)
    for j in np.flatnonzero(enrol > inst.capacity * max_utilization + 1e-9):
        out.append(f"school {inst.school_ids[j]} over capacity: {enrol[j]:.0f} > "
                   f"{inst.capacity[j] * max_utilization:.0f}")
    d = inst.dist_km[np.arange(inst.n_units), sch]
    far = d > inst.dist_km.min(axis=1) + max_extra_distance_km + 1e-9
    if far.any():
        out.append(f"{int(far.sum())} units beyond the extra-distance limit")
    for j, h in enumerate(inst.home):
        if inst.home_owner[j] == j and sch[h] != j:
            out.append(f"home unit of school {inst.school_ids[j]} assigned elsewhere")
    lk = np.flatnonzero(inst.locked >= 0)
    if (sch[lk] != inst.locked[lk]).any():
        out.append("a locked unit is assigned to another school")
    # Exact contiguity: every unit of a zone reaches the home unit through the zone.
    comp = _components(inst)
    has_school = np.zeros(comp.max() + 1, dtype=bool)
    has_school[comp[inst.home]] = True
    for j, h in enumerate(inst.home):
        members = sch == j
        seen = np.zeros(inst.n_units, dtype=bool)
        starts = [int(h)] if inst.home_owner[j] == j else [
            int(k) for k in inst.neighbours[h] if members[k]
        ]
        q = deque(starts)
        seen[starts] = True
        while q:
            v = q.popleft()
            for w in inst.neighbours[v]:
                if members[w] and not seen[w]:
                    seen[w] = True
                    q.append(w)
        cut = members & ~seen & has_school[comp]
        if inst.home_owner[j] != j:
            cut[h] = False
        if cut.any():
            out.append(f"zone of school {inst.school_ids[j]} not contiguous: "
                       f"{int(cut.sum())} units cut off")
    return out


# ---------------------------------------------------------------------------------------------
# PuLP: CBC and HiGHS.

_CBC_INCUMBENT = re.compile(r"Integer solution of (\S+) found.*?\(([\d.]+) seconds\)")
_CBC_BOUND = re.compile(r"^(?:Lower bound|Objective bound):\s+(\S+)", re.M)
_CBC_WALL = re.compile(r"Total time \(CPU seconds\):\s+\S+\s+\(Wallclock seconds\):\s+(\S+)")
_CBC_POSSIBLE = re.compile(r"best possible (\S+?)[,)\s]")


def _cbc_bound(text: str) -> float | None:
    """The proven bound from a CBC log: its summary line, else its last progress line."""
    found = _CBC_BOUND.findall(text) or _CBC_POSSIBLE.findall(text)
    if not found and "Search completed" in text:
        # Search completed: the best objective is proven optimal, so it is its own bound.
        found = re.findall(r"Search completed - best objective (\S+)", text)
    for value in reversed(found):
        try:
            return float(value.rstrip(","))
        except ValueError:
            continue
    return None


def _assignment_from(inst: Instance, pairs_i, pairs_j, values) -> np.ndarray | None:
    sch = np.full(inst.n_units, -1)
    on = np.asarray(values) > 0.5
    sch[np.asarray(pairs_i)[on]] = np.asarray(pairs_j)[on]
    return None if (sch < 0).any() else sch


def solve_pulp(
    units: gpd.GeoDataFrame,
    schools: pd.DataFrame,
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
    max_extra_distance_km: float = 3.0,
    max_utilization: float = 1.0,
    mip_gap: float = 0.01,
    inst: Instance | None = None,
) -> BaselineResult:
    """Build the straightforward model with PuLP and solve it with CBC or HiGHS.

    Parameters
    ----------
    units, schools
        The district in the input format of CONTRACT.md.
    solver
        ``"cbc"`` (``PULP_CBC_CMD``) or ``"highs"`` (PuLP's ``HiGHS`` class over highspy).
    time_limit
        Seconds given to the solver (the model build is not counted in it).
    max_extra_distance_km, max_utilization, mip_gap
        The scenario.
    inst
        A prepared instance to reuse (its preparation time is then not counted).

    Returns
    -------
    BaselineResult
    """
    import pulp

    t0 = time.perf_counter()
    if inst is None:
        inst = prepare(units, schools)
    elig = eligible_pairs(inst, max_extra_distance_km)
    pi, pj = np.nonzero(elig)
    L = float(inst.low_income.sum())
    S = float(inst.students.sum())
    N = S - L
    p = L / S

    prob = pulp.LpProblem("zones", pulp.LpMinimize)
    x = {
        (int(i), int(j)): prob.add_variable(f"x_{i}_{j}", cat=pulp.LpBinary)
        for i, j in zip(pi, pj, strict=True)
    }
    t = [prob.add_variable(f"t_{j}", lowBound=0) for j in range(inst.n_schools)]
    by_unit: dict[int, list] = {}
    by_school: dict[int, list] = {}
    for (i, j), v in x.items():
        by_unit.setdefault(i, []).append(v)
        by_school.setdefault(j, []).append((i, v))
    prob += (S / (2 * L * N)) * pulp.lpSum(t)
    for i in range(inst.n_units):
        prob += pulp.lpSum(by_unit[i]) == 1, f"assign_{i}"
    for j in range(inst.n_schools):
        prob += x[int(inst.home[j]), j] == 1 if inst.home_owner[j] == j else x[
            int(inst.home[j]), j
        ] == 0, f"home_{j}"
        members = by_school[j]
        prob += (
            pulp.lpSum(int(inst.students[i]) * v for i, v in members)
            <= float(inst.capacity[j]) * max_utilization
        ), f"cap_{j}"
        bal = pulp.lpSum((float(inst.low_income[i]) - p * float(inst.students[i])) * v
                         for i, v in members)
        prob += t[j] >= bal, f"tpos_{j}"
        prob += t[j] >= -bal, f"tneg_{j}"
    for i in np.flatnonzero(inst.locked >= 0):
        prob += x[int(i), int(inst.locked[i])] == 1, f"lock_{i}"
    for i, j, preds in _contiguity_rows(inst, elig):
        prob += x[i, j] <= pulp.lpSum(x[k, j] for k in preds), f"contig_{i}_{j}"
    build = time.perf_counter() - t0

    incumbents: list[tuple[float, float, float | None]] = []
    bound = None
    solver_seconds = None
    with tempfile.TemporaryDirectory() as tmp:
        if solver == "cbc":
            log = os.path.join(tmp, "cbc.log")
            with warnings.catch_warnings():
                # PuLP 3.3 warns that its bundled CBC goes away in 4.0; it is the CBC we mean.
                warnings.simplefilter("ignore", DeprecationWarning)
                cmd = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit, gapRel=mip_gap,
                                        logPath=log)
        elif solver == "highs":
            hs = pulp.HiGHS

            def on_improve(_type, _msg, data_out, _data_in, _user):
                incumbents.append((float(data_out.running_time),
                                   float(data_out.objective_function_value),
                                   float(data_out.mip_dual_bound)))

            cmd = hs(msg=False, timeLimit=time_limit, gapRel=mip_gap,
                     callbackTuple=(on_improve, None),
                     callbacksToActivate=[hs.hscb.HighsCallbackType.kCallbackMipImprovingSolution])
        else:
            raise ValueError(f"solver must be 'cbc' or 'highs', got {solver!r}")
        t1 = time.perf_counter()
        prob.solve(cmd)
        solve = time.perf_counter() - t1
        if solver == "cbc" and os.path.exists(log):
            text = open(log, encoding="utf-8", errors="replace").read()
            incumbents = [(float(s), float(o), None) for o, s in _CBC_INCUMBENT.findall(text)]
            bound = _cbc_bound(text)
            wall = _CBC_WALL.findall(text)
            solver_seconds = float(wall[-1]) if wall else None
        elif solver == "highs":
            info = prob.solverModel.getInfo()
            b = float(info.mip_dual_bound)
            bound = b if np.isfinite(b) else None
            solver_seconds = float(prob.solverModel.getRunTime())

    values = [v.varValue if v.varValue is not None else 0.0 for v in x.values()]
    sch = None
    if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        sch = _assignment_from(inst, pi, pj, values)
    status = _status(pulp.LpStatus[prob.status], sch is not None, None, bound, mip_gap, inst, sch)
    res = _result(solver, inst, sch, status, bound, build, solve, incumbents,
                  len(x) + len(t), prob.numConstraints())
    res.solver_seconds = solver_seconds
    return res


def _status(raw: str, has_plan: bool, _x, bound, gap, inst, sch) -> str:
    if not has_plan:
        return "infeasible" if raw == "Infeasible" else "no_solution"
    d = dissimilarity(inst, sch)
    if bound is not None and (d - bound) <= gap * max(d, 1e-12) + 1e-9:
        return "optimal"
    return "feasible"


def _result(method, inst, sch, status, bound, build, solve, incumbents, nv, nc) -> BaselineResult:
    assignment = None
    d = None
    if sch is not None:
        assignment = pd.Series(inst.school_ids[sch], index=pd.Index(inst.unit_ids, name="unit_id"),
                               name="school_id")
        d = dissimilarity(inst, sch)
    return BaselineResult(method=method, assignment=assignment, status=status, dissimilarity=d,
                          bound=bound, build_seconds=build, solve_seconds=solve,
                          incumbents=incumbents, n_variables=nv, n_constraints=nc)


# ---------------------------------------------------------------------------------------------
# OR-Tools CP-SAT.


def solve_cpsat(
    units: gpd.GeoDataFrame,
    schools: pd.DataFrame,
    *,
    time_limit: float = 60.0,
    max_extra_distance_km: float = 3.0,
    max_utilization: float = 1.0,
    mip_gap: float = 0.01,
    workers: int = 2,
    inst: Instance | None = None,
) -> BaselineResult:
    """The same model in OR-Tools CP-SAT, integer-scaled, with the status quo as a hint.

    Parameters
    ----------
    units, schools
        The district in the input format of CONTRACT.md.
    time_limit
        Seconds given to the solver.
    max_extra_distance_km, max_utilization, mip_gap
        The scenario.
    workers
        CP-SAT search workers.
    inst
        A prepared instance to reuse.

    Returns
    -------
    BaselineResult
        ``incumbents`` holds every solution the callback saw.
    """
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    if inst is None:
        inst = prepare(units, schools)
    elig = eligible_pairs(inst, max_extra_distance_km)
    pi, pj = np.nonzero(elig)
    L = int(inst.low_income.sum())
    S = int(inst.students.sum())
    N = S - L
    coef = S * inst.low_income - L * inst.students  # exact integers: S l_i - L s_i

    m = cp_model.CpModel()
    x = {}
    for i, j in zip(pi.tolist(), pj.tolist(), strict=True):
        x[i, j] = m.new_bool_var(f"x_{i}_{j}")
    by_unit: dict[int, list] = {}
    by_school: dict[int, list] = {}
    for (i, j), v in x.items():
        by_unit.setdefault(i, []).append(v)
        by_school.setdefault(j, []).append((i, v))
    for i in range(inst.n_units):
        m.add_exactly_one(by_unit[i])
    t = []
    for j in range(inst.n_schools):
        h = int(inst.home[j])
        m.add(x[h, j] == (1 if inst.home_owner[j] == j else 0))
        members = by_school[j]
        cap = int(np.floor(inst.capacity[j] * max_utilization + 1e-9))
        m.add(sum(int(inst.students[i]) * v for i, v in members) <= cap)
        bal = sum(int(coef[i]) * v for i, v in members)
        ub = int(sum(abs(int(coef[i])) for i, _ in members))
        tj = m.new_int_var(0, ub, f"t_{j}")
        m.add(tj >= bal)
        m.add(tj >= -bal)
        t.append(tj)
    for i in np.flatnonzero(inst.locked >= 0):
        m.add(x[int(i), int(inst.locked[i])] == 1)
    n_rows = inst.n_units + 4 * inst.n_schools
    for i, j, preds in _contiguity_rows(inst, elig):
        m.add(x[i, j] <= sum(x[k, j] for k in preds))
        n_rows += 1
    m.minimize(sum(t))
    for (i, j), v in x.items():
        m.add_hint(v, int(inst.status_quo[i] == j))
    build = time.perf_counter() - t0

    scale = 2.0 * L * N
    incumbents: list[tuple[float, float, float | None]] = []

    class _Trace(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            incumbents.append((self.wall_time, self.objective_value / scale,
                               self.best_objective_bound / scale))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = int(workers)
    solver.parameters.relative_gap_limit = float(mip_gap)
    t1 = time.perf_counter()
    code = solver.solve(m, _Trace())
    solve = time.perf_counter() - t1
    sch = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = [solver.boolean_value(v) for v in x.values()]
        sch = _assignment_from(inst, pi, pj, values)
    bound = None
    if code not in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        b = solver.best_objective_bound / scale
        bound = b if np.isfinite(b) else None
    if code == cp_model.INFEASIBLE:
        status = "infeasible"
    else:
        status = _status("", sch is not None, None, bound, mip_gap, inst, sch)
    res = _result("cpsat", inst, sch, status, bound, build, solve, incumbents,
                  len(x) + len(t), n_rows)
    res.solver_seconds = float(solver.wall_time)
    return res
