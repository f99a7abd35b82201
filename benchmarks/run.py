"""The benchmark harness: zoneopt against the straightforward formulation, same run, same budget.

Usage (``make bench`` runs the first line)::

    python -m benchmarks.run
    python -m benchmarks.run --sizes 200x10,800x40 --budget 60 --methods zoneopt,cbc,highs,cpsat
    python -m benchmarks.run --quick          # two small cities and a 10 s budget, a smoke test

For each district (synthetic cities from :func:`zoneopt.synthetic.synthetic_district`, then the
Sacramento demo when ``zoneopt.demo.demo_district`` exists) every method runs in a fresh process
(so peak memory is its own), every plan is verified by ``zoneopt.check.check_plan``, and the table
goes to ``benchmarks/RESULTS.md`` with raw figures in ``benchmarks/out/results.json``.

Baselines (CBC, HiGHS, CP-SAT) run twice, with a 10 s and a full-budget solver limit, because
PuLP hands back only the final plan; zoneopt runs once and its ``plan.trace`` gives the rest.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = "200x10,800x40,2000x100,5000x250"
DEFAULT_REAL = "georgia,albuquerque"
#: Work of each bound source when measured alone (method "bounds"): subgradient iterations of the
#: Lagrangian, rounds of the cut loop; the budget is their safety stop.
LAGRANGIAN_ITERATIONS = 10
CUT_ROUNDS = 10
METHODS = ("zoneopt", "cbc", "highs", "cpsat", "bounds")
BASELINES = ("cbc", "highs", "cpsat")
EARLY_S = 10.0  # the "D at 10 s" checkpoint of issue 6
SYNTHETIC_EXTRA_KM = 3.0
DEMO_EXTRA_KM = 4.0
SEED = 0


# ---------------------------------------------------------------------------------------------
# District specs are small picklable tuples; each process rebuilds the frames from them, so a
# worker's peak memory is not inflated by the parent's copies.


def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"200x10,800x40"`` -> ``[(200, 10), (800, 40)]``."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            n, m = part.lower().split("x")
            out.append((int(n), int(m)))
        except ValueError as exc:
            raise SystemExit(f"--sizes: '{part}' is not UNITSxSCHOOLS, e.g. 800x40") from exc
    return out


def load_frames(spec: tuple) -> tuple[Any, Any]:
    """Units and schools frames of a district spec (``("synthetic", n, m, seed)`` or demo)."""
    if spec[0] == "synthetic":
        from zoneopt.synthetic import synthetic_district

        return synthetic_district(spec[1], spec[2], seed=spec[3])
    if spec[0] == "real":
        from benchmarks.real import real_frames

        return real_frames(spec[1])
    from zoneopt import demo

    # The raw input frames when the demo offers them, so every method starts from the same input;
    # the whole county (the first release's demo) when offered: the scale example.
    for name in ("county_frames", "demo_frames"):
        if callable(getattr(demo, name, None)):
            return getattr(demo, name)()
    got = demo.demo_district()
    if isinstance(got, tuple):
        return got[0], got[1]
    return got.units, got.schools


def demo_available() -> bool:
    """True when ``zoneopt.demo`` offers ``demo_frames`` or ``demo_district``."""
    try:
        from zoneopt import demo

        return any(callable(getattr(demo, f, None)) for f in ("demo_frames", "demo_district"))
    except Exception:
        return False


def demo_extra_km() -> float:
    """The demo's own extra-distance limit, so the demo is benchmarked under its shipped policy."""
    try:
        from zoneopt import demo

        return float(demo.DEMO_SCENARIO["constraints"]["max_extra_distance_km"])
    except Exception:
        return DEMO_EXTRA_KM


def spec_label(spec: tuple) -> str:
    if spec[0] == "real":
        from benchmarks.real import REAL_DISTRICTS

        return REAL_DISTRICTS[spec[1]][0]
    return f"synthetic {spec[1]}x{spec[2]}" if spec[0] == "synthetic" else "Sacramento demo"


def spec_extra_km(spec: tuple) -> float:
    """The district's max_extra_distance_km (real districts: their own, see benchmarks/real.py)."""
    if spec[0] == "real":
        from benchmarks.real import REAL_DISTRICTS

        return REAL_DISTRICTS[spec[1]][2]
    return SYNTHETIC_EXTRA_KM if spec[0] == "synthetic" else demo_extra_km()


def scenario_dict(extra_km: float, budget: float) -> dict[str, Any]:
    """The one scenario every method solves."""
    return {
        "constraints": {
            "max_extra_distance_km": extra_km,
            "contiguity": True,
            "max_utilization": 1.0,
        },
        "solver": {"time_limit_s": budget},
    }


# ---------------------------------------------------------------------------------------------
# One method, one limit, one fresh process.


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux. For children it is the largest finished child (CBC runs as
    # one), not a sum over concurrent ones.
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + kids) / 1024.0


def _worker(spec: tuple, method: str, limit: float, extra_km: float, conn) -> None:
    """Run one method on one district with one limit; send a dict of plain values back."""
    try:
        conn.send(_run_method(spec, method, limit, extra_km))
    except BaseException as exc:  # report, never hang the harness
        conn.send({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                   "peak_mb": _peak_rss_mb()})
    finally:
        conn.close()


def _run_method(spec: tuple, method: str, limit: float, extra_km: float) -> dict[str, Any]:
    units, schools = load_frames(spec)
    if method == "zoneopt":
        return _run_zoneopt(units, schools, limit, extra_km)
    if method == "bounds":
        return _run_bounds(units, schools, limit, extra_km)
    from benchmarks import baselines

    if method == "cpsat":
        r = baselines.solve_cpsat(units, schools, time_limit=limit, max_extra_distance_km=extra_km)
    else:
        r = baselines.solve_pulp(units, schools, solver=method, time_limit=limit,
                                 max_extra_distance_km=extra_km)
    first = None
    if r.incumbents:
        # Wall clock from the start of the build: build + hand-over to the solver + solver clock.
        handover = max(0.0, r.solve_seconds - (r.solver_seconds or r.solve_seconds))
        first = r.build_seconds + handover + r.incumbents[0][0]
    return {
        "assignment": None if r.assignment is None else r.assignment.to_dict(),
        "status": r.status,
        "dissimilarity": r.dissimilarity,
        "bound": r.bound,
        "build_s": r.build_seconds,
        "solve_s": r.solve_seconds,
        "first_plan_s": first,
        "handover_s": r.solve_seconds - (r.solver_seconds or r.solve_seconds),
        "incumbents": r.incumbents,
        "n_variables": r.n_variables,
        "n_constraints": r.n_constraints,
        "peak_mb": _peak_rss_mb(),
    }


def _run_zoneopt(units, schools, limit: float, extra_km: float) -> dict[str, Any]:
    import zoneopt

    optimize = getattr(zoneopt, "optimize", None)
    if optimize is None:
        return {"unavailable": "zoneopt.optimize does not exist yet", "peak_mb": _peak_rss_mb()}
    district_cls, scenario_cls = package_api()
    t0 = time.perf_counter()
    district = district_cls.from_frames(units, schools)
    prep = time.perf_counter() - t0
    scenario = scenario_cls.from_dict(scenario_dict(extra_km, limit))
    # zoneopt's warnings (a worker that failed or hung, a proof cut short) go into the raw figures:
    # they explain a run that ends unlike its neighbours.
    import logging

    warnings_seen: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings_seen.append(record.getMessage()[:300])
    logging.getLogger("zoneopt").addHandler(handler)
    t1 = time.perf_counter()
    try:
        plan = optimize(district, scenario, time_limit=limit)
    except Exception as exc:  # no plan: NoSolutionError / InfeasibleError
        return {"assignment": None, "status": type(exc).__name__, "dissimilarity": None,
                "bound": None, "build_s": prep, "solve_s": time.perf_counter() - t1,
                "first_plan_s": None, "incumbents": [], "peak_mb": _peak_rss_mb(),
                "note": str(exc)[:300]}
    finally:
        logging.getLogger("zoneopt").removeHandler(handler)
    solve = time.perf_counter() - t1
    summary = dict(getattr(plan, "summary", {}) or {})
    trace = list(getattr(plan, "trace", []) or [])
    incumbents = [
        (float(e["seconds"]), _num(e.get("dissimilarity")), _num(e.get("bound")))
        for e in trace
        if e.get("dissimilarity") is not None
    ]
    model_build = _num(summary.get("build_seconds") or summary.get("model_build_seconds"))
    first_source = next((e.get("source") for e in trace if e.get("objective") is not None), None)
    return {
        "assignment": {str(k): str(v) for k, v in plan.assignment.items()},
        "status": summary.get("status"),
        "dissimilarity": _num(summary.get("dissimilarity_after")),
        "bound": _num(summary.get("bound")),
        "build_s": prep + (model_build or 0.0),
        "build_note": "District.from_frames" + (" + model build" if model_build else ""),
        "solve_s": solve,
        "first_plan_s": prep + incumbents[0][0] if incumbents else None,
        "incumbents": incumbents,
        "peak_mb": _peak_rss_mb(),
        "bounds": {k: _num(v) for k, v in (summary.get("bounds") or {}).items()},
        "first_source": first_source,
        "gap": _num(summary.get("gap")),
        "stopped_by": summary.get("stopped_by"),
        "clock_ended": summary.get("clock_ended"),
        "trace": [(round(float(e["seconds"]), 3), str(e.get("source")), _num(e.get("bound")))
                  for e in trace],
        "warnings": warnings_seen,
    }


def _run_bounds(units, schools, limit: float, extra_km: float) -> dict[str, Any]:
    """Each bound source of zoneopt.bounds alone, with fixed work, on the district (no plan)."""
    try:
        from zoneopt.bounds.cuts import cut_loop_bound
        from zoneopt.bounds.lagrangian import lagrangian_bound
        from zoneopt.bounds.lp import root_lp_bound
    except ImportError:
        return {"unavailable": "zoneopt.bounds does not exist yet", "peak_mb": _peak_rss_mb()}
    from zoneopt.model import eligible_pairs

    district_cls, scenario_cls = package_api()
    district = district_cls.from_frames(units, schools)
    scenario = scenario_cls.from_dict(scenario_dict(extra_km, limit))
    eligible = eligible_pairs(district, scenario)
    out: dict[str, Any] = {}
    t = time.perf_counter()
    lp = root_lp_bound(district, scenario, eligible, deadline=t + limit)
    out["root_lp"] = {"bound": _num(lp.value), "seconds": time.perf_counter() - t}
    t = time.perf_counter()
    lag = lagrangian_bound(district, scenario, eligible, LAGRANGIAN_ITERATIONS,
                           duals=lp.detail.get("duals"), moved_dual=lp.detail.get("moved_dual", 0.0),
                           deadline=t + limit / 2)
    out["lagrangian"] = {"bound": _num(lag.value), "seconds": time.perf_counter() - t,
                         "iterations": lag.detail.get("iterations")}
    t = time.perf_counter()
    from zoneopt.model import build_model
    from zoneopt.model.root_cuts import strengthen_root

    model = build_model(district, scenario, eligible, contiguity="neighbour")
    value, added, rounds = strengthen_root(
        district, model, should_stop=lambda: time.perf_counter() > t + limit / 2)
    out["root_cuts"] = {"bound": _num(value), "seconds": time.perf_counter() - t,
                        "rounds": rounds, "cuts": added}
    t = time.perf_counter()
    from zoneopt.bounds.lp_cuts import lp_cuts_bound

    lpc = lp_cuts_bound(district, scenario, eligible, deadline=t + limit / 2)
    out["lp_cuts"] = {"bound": _num(lpc.value), "seconds": time.perf_counter() - t,
                      "rounds": lpc.detail.get("rounds")}
    t = time.perf_counter()
    cuts = cut_loop_bound(district, scenario, eligible, CUT_ROUNDS, deadline=t + limit / 2)
    out["cut_loop"] = {"bound": _num(cuts.value), "seconds": time.perf_counter() - t,
                       "rounds": cuts.detail.get("rounds")}
    return {"assignment": None, "status": "bounds", "sources": out, "peak_mb": _peak_rss_mb()}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _stop_tree(pid: int) -> None:
    """Stop a worker and the solver processes it started (CBC runs as a child of the worker)."""
    try:
        import psutil

        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
        for p in procs:
            p.terminate()
        _gone, alive = psutil.wait_procs(procs, timeout=10)
        for p in alive:
            p.kill()
    except Exception:
        os.kill(pid, 9)


def run_isolated(spec: tuple, method: str, limit: float, extra_km: float) -> dict[str, Any]:
    """Run one method in a fresh spawned process and return what it reported.

    A process that outlives its limit by far (a solver ignoring its time limit) is terminated
    and reported as such.
    """
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    # Not a daemon: zoneopt may start its own worker processes, which daemons may not have.
    proc = ctx.Process(target=_worker, args=(spec, method, limit, extra_km, send))
    t0 = time.perf_counter()
    proc.start()
    send.close()
    deadline = 2 * limit + 60  # a solver past this has ignored its limit; report and move on
    result: dict[str, Any] | None = None
    if recv.poll(deadline):
        try:
            result = recv.recv()
        except EOFError:
            result = None
    proc.join(30)
    if proc.is_alive():
        _stop_tree(proc.pid)
        proc.join(10)
    if result is None:
        result = {"error": f"no result within {deadline:.0f} s of a {limit:g} s limit (the solver "
                           f"ignored its limit); stopped after {time.perf_counter() - t0:.0f} s"}
    result["wall_s"] = time.perf_counter() - t0
    return result


# ---------------------------------------------------------------------------------------------
# Verification and the figures of issue 6.


def package_api() -> tuple[Any, Any]:
    """zoneopt's ``District`` and ``Scenario`` classes, wherever they live today."""
    import zoneopt

    district_cls = getattr(zoneopt, "District", None)
    scenario_cls = getattr(zoneopt, "Scenario", None)
    if district_cls is None:
        from zoneopt.district import District as district_cls
    if scenario_cls is None:
        from zoneopt.scenario import Scenario as scenario_cls
    return district_cls, scenario_cls


def verify(district, scenario, assignment: dict | None) -> tuple[bool | None, float | None, str]:
    """Check a plan with zoneopt's checker; returns (ok, dissimilarity, first violation)."""
    if assignment is None:
        return None, None, ""
    from zoneopt.check import check_plan

    rep = check_plan(district, scenario, assignment)
    d = _num(rep.figures.get("dissimilarity", rep.figures.get("dissimilarity_after")))
    return bool(rep.ok), d, (rep.violations[0] if rep.violations else "")


def time_to_reach(incumbents: list, target: float | None, offset: float) -> float | None:
    """Wall seconds until an incumbent's D is within target (+1e-9), or None."""
    if target is None:
        return None
    for t, d, _b in incumbents:
        # Solver logs print 8 significant digits: allow for that rounding.
        if d is not None and d <= target * (1 + 1e-6) + 1e-9:
            return offset + t
    return None


def run_district(spec: tuple, methods: list[str], budget: float, extra_km: float,
                 log=print) -> dict[str, Any]:
    """Every method on one district; returns a record with one entry per method."""
    District, Scenario = package_api()  # noqa: N806 - classes

    units, schools = load_frames(spec)
    district = District.from_frames(units, schools)
    scenario = Scenario.from_dict(scenario_dict(extra_km, budget))
    from benchmarks.baselines import dissimilarity, prepare

    inst = prepare(units, schools)
    record: dict[str, Any] = {
        "district": spec_label(spec),
        "n_units": len(units),
        "n_schools": len(schools),
        "students": int(units["students"].sum()),
        "extra_km": extra_km,
        "d_status_quo": dissimilarity(inst, inst.status_quo),
        "load_avg_start": os.getloadavg(),
        "methods": {},
    }
    limits = {m: ([EARLY_S, budget] if (m in BASELINES and budget > EARLY_S) else [budget])
              for m in methods}
    # A bound alone needs a plan for nothing: it gets the budget as its safety stop, once.
    for method in methods:
        entry: dict[str, Any] = {"runs": {}}
        for limit in limits[method]:
            log(f"  {spec_label(spec)}: {method} with {limit:g} s ...")
            r = run_isolated(spec, method, limit, extra_km)
            ok, d, why = verify(district, scenario, r.get("assignment"))
            r["verified"] = ok
            r["checked_d"] = d
            r["violation"] = why
            r.pop("assignment", None)
            entry["runs"][str(limit)] = r
            log(f"    -> {_brief(r)}")
        record["methods"][method] = entry
        _summarise(entry, method, budget)
    return record


def _brief(r: dict) -> str:
    if "unavailable" in r:
        return "unavailable: " + r["unavailable"]
    if "error" in r:
        return "error: " + r["error"]
    if r.get("sources"):
        return "bounds: " + ", ".join(f"{k}={_fmt(v.get('bound'))} ({_fmt(v.get('seconds'), 1)}s)"
                                      for k, v in r["sources"].items())
    return (f"status={r.get('status')} D={_fmt(r.get('checked_d'))} verified={r.get('verified')} "
            f"bound={_fmt(r.get('bound'))} build={_fmt(r.get('build_s'), 1)}s "
            f"peak={_fmt(r.get('peak_mb'), 0)}MB wall={_fmt(r.get('wall_s'), 1)}s")


def _summarise(entry: dict, method: str, budget: float) -> None:
    """Fill the table's figures of one method from its runs."""
    runs = entry["runs"]
    full = runs[str(budget)]
    entry["unavailable"] = full.get("unavailable")
    entry["error"] = full.get("error")
    ok = full.get("verified")
    entry["d_full"] = full.get("checked_d") if ok else None
    entry["bound"] = full.get("bound")
    entry["build_s"] = full.get("build_s")
    entry["peak_mb"] = max((r.get("peak_mb") or 0.0) for r in runs.values()) or None
    entry["status"] = full.get("status")
    entry["violation"] = next((r["violation"] for r in runs.values() if r.get("violation")), "")
    entry["note"] = full.get("note")
    entry["bounds"] = full.get("bounds")
    entry["first_source"] = full.get("first_source")
    entry["gap"] = full.get("gap")
    entry["sources"] = full.get("sources")
    if method in BASELINES and str(EARLY_S) in runs:
        early = runs[str(EARLY_S)]
        entry["d_early"] = early.get("checked_d") if early.get("verified") else None
    else:
        # zoneopt: the best plan its trace holds at 10 s (each traced plan is zoneopt's own).
        inc = full.get("incumbents") or []
        offset = (full.get("first_plan_s") or 0.0) - (inc[0][0] if inc else 0.0)
        early = [d for t, d, _b in inc if d is not None and offset + t <= EARLY_S]
        entry["d_early"] = min(early) if early else None
        if budget <= EARLY_S:
            entry["d_early"] = entry["d_full"]
    # Time to the first plan, from the full run (its incumbent trace) when a plan was verified.
    firsts = [r.get("first_plan_s") for r in runs.values()
              if r.get("verified") and r.get("first_plan_s") is not None]
    entry["first_plan_s"] = min(firsts) if firsts else None


def add_ratios(record: dict[str, Any], budget: float) -> None:
    """Ratios of issue 6's targets: zoneopt against the best baseline of the same run."""
    ms = record["methods"]
    base = {m: e for m, e in ms.items() if m in BASELINES and e.get("d_full") is not None}
    record["best_baseline"] = None
    if not base:
        return
    best_m = min(base, key=lambda m: base[m]["d_full"])
    best = base[best_m]
    record["best_baseline"] = best_m
    z = ms.get("zoneopt")
    if not z or z.get("d_full") is None:
        return
    record["d_ratio"] = z["d_full"] / best["d_full"] if best["d_full"] > 0 else None
    target = best["d_full"]
    full_b = best["runs"][str(budget)]
    t_base = time_to_reach(full_b.get("incumbents") or [], target,
                           (full_b.get("build_s") or 0) + (full_b.get("handover_s") or 0))
    full_z = z["runs"][str(budget)]
    inc = full_z.get("incumbents") or []
    off = (full_z.get("first_plan_s") or 0.0) - (inc[0][0] if inc else 0.0)
    t_z = time_to_reach(inc, target, off)
    record["t_base_reach"] = t_base
    record["t_zoneopt_reach"] = t_z
    record["speedup"] = (t_base / t_z) if (t_base and t_z) else None


# ---------------------------------------------------------------------------------------------
# The report.


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def machine() -> dict[str, Any]:
    """nproc, CPU model and RAM of this machine."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram_gb = int(line.split()[1]) / 1024**2
                break
    except OSError:
        pass
    import highspy  # noqa: F401
    import pulp

    try:
        import ortools

        ortools_v = ortools.__version__
    except Exception:
        ortools_v = "missing"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": ram_gb,
        "python": platform.python_version(),
        "pulp": pulp.__version__,
        "ortools": ortools_v,
        "load_avg": os.getloadavg(),
    }


def render(records: list[dict], budget: float, command: str, started: str, mach: dict,
           raw_name: str = "benchmarks/out/results.json") -> str:
    """RESULTS.md as text."""
    full_label = f"D@{budget:g}s" + (" (same run)" if budget <= EARLY_S else "")
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{command}`  ",
        f"Date: {started} (UTC)  ",
        f"Machine: {mach['nproc']} CPUs ({mach['cpu']}), {_fmt(mach['ram_gb'], 1)} GB RAM, "
        f"Python {mach['python']}, PuLP {mach['pulp']} (CBC bundled, HiGHS via highspy), "
        f"OR-Tools {mach['ortools']}  ",
        f"Load average at start: {', '.join(f'{x:.2f}' for x in mach['load_avg'])} "
        "(other work on the machine slows every method alike, but not exactly alike)",
        "",
        f"Scenario for every method: `max_extra_distance_km` = {SYNTHETIC_EXTRA_KM:g} "
        f"(synthetic cities; {demo_extra_km():g} for the Sacramento demo, as its shipped scenario; "
        "the real districts of `benchmarks/real.py` their own: "
        + ", ".join((f"{v[2]:g} km" if math.isfinite(v[2]) else "no limit") + f" for {k}"
                    for k, v in _real_districts().items()) + "), "
        "`max_utilization` = 1.0, "
        f"contiguity on, objective = dissimilarity, mip gap 1%. Synthetic cities: "
        f"`synthetic_district(n, m, seed={SEED})`.",
        "",
        "## What the columns mean",
        "",
        f"- **first plan s**: wall seconds from the start of the model build (zoneopt: from "
        f"`District.from_frames`) to the first plan the solver reported, in the {budget:g} s run; "
        "only counted when that run's final plan passed `zoneopt.check.check_plan`.",
        f"- **D@10s**, **D@{budget:g}s**: dissimilarity of the plan, as re-derived by the checker. "
        f"Baselines: a separate run with a 10 s solver limit, and the {budget:g} s run. zoneopt: one "
        f"{budget:g} s run; D@10s is the best plan in its trace by 10 s.",
        "- **bound**: the solver's proven lower bound on D. For the baselines it holds only for the "
        "closer-neighbour model, not the exact-contiguity problem.",
        "- **build s**: baselines: distances, adjacency, hop distances and the PuLP/CP-SAT model "
        "(not the hand-over to the solver, which is inside the time limit's wall time); zoneopt: "
        "`District.from_frames` (+ its model build when the summary reports one).",
        "- **peak MB**: maximum resident memory of the fresh process running the method, plus the "
        "largest of its finished child processes (CBC runs as a child; zoneopt may start "
        "workers). Concurrent children are not summed, so this can understate a method with "
        "several live workers.",
        "- **ok**: every returned plan passed the checker (✗ lists the first violation below).",
        "",
        "| district | D before | method | first plan s | D@10s | "
        f"{full_label} | bound | status | build s | peak MB | ok |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for rec in records:
        name = f"{rec['district']} ({rec['students']:,} students)"
        for method, e in rec["methods"].items():
            if method == "bounds":
                continue  # its own table below
            if e.get("unavailable"):
                lines.append(f"| {name} | {_fmt(rec['d_status_quo'])} | {method} | unavailable "
                             "| | | | | | | |")
                continue
            if e.get("error"):
                lines.append(f"| {name} | {_fmt(rec['d_status_quo'])} | {method} | error | | | | "
                             "| | | |")
                notes.append(f"- {rec['district']}, {method}: {e['error']}")
                continue
            verified = [r.get("verified") for r in e["runs"].values() if r.get("verified") is not None]
            okc = "—" if not verified else ("✓" if all(verified) else "✗")
            if e.get("violation"):
                notes.append(f"- {rec['district']}, {method}: checker says: {e['violation']}")
            note = e.get("note") or e["runs"].get(str(budget), {}).get("note")
            if note:
                notes.append(f"- {rec['district']}, {method}: {e.get('status')}: {note}")
            lines.append(
                f"| {name} | {_fmt(rec['d_status_quo'])} | {method} | {_fmt(e.get('first_plan_s'), 1)} "
                f"| {_fmt(e.get('d_early'))} | {_fmt(e.get('d_full'))} | {_fmt(e.get('bound'))} | "
                f"{e.get('status') or '—'} | {_fmt(e.get('build_s'), 2)} | "
                f"{_fmt(e.get('peak_mb'), 0)} | {okc} |"
            )
    lines += _proof_tables(records, budget)
    lines += ["", "## Targets of issue 6 (zoneopt against the best baseline of this run)", ""]
    if not any("zoneopt" in r["methods"] for r in records):
        lines.append("zoneopt was not run (`--methods` left it out).")
    else:
        lines += [
            f"| district | best baseline | its D@{budget:g}s | zoneopt D@{budget:g}s | D ratio "
            "(target <= 0.9 at 800+ units, <= 1 below) | baseline s to its D | zoneopt s to "
            "that D | speed-up (target >= 10) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for rec in records:
            z = rec["methods"].get("zoneopt", {})
            best = rec.get("best_baseline")
            bd = rec["methods"][best]["d_full"] if best else None
            if z.get("unavailable"):
                zd = "unavailable"
            else:
                zd = _fmt(z.get("d_full"))
            lines.append(
                f"| {rec['district']} | {best or _no_baseline(rec)} | {_fmt(bd)} | {zd} | "
                f"{_fmt(rec.get('d_ratio'), 2)} | {_fmt(rec.get('t_base_reach'), 1)} | "
                f"{_fmt(rec.get('t_zoneopt_reach'), 1)} | {_fmt(rec.get('speedup'), 1)} |"
            )
        lines += ["", "Absolute targets of issue 6 for zoneopt:", ""] + _absolute_targets(records)
    if notes:
        lines += ["", "## Notes", ""] + notes
    lines += [
        "",
        f"Raw figures (every run, incumbent traces, model sizes): `{raw_name}` "
        "(re-render this page from them with `--from-json`).",
        "",
    ]
    return "\n".join(lines)


def _real_districts() -> dict:
    from benchmarks.real import REAL_DISTRICTS

    return REAL_DISTRICTS


def _no_baseline(rec: dict) -> str:
    ran = any(m in BASELINES for m in rec["methods"])
    return "none found a plan" if ran else "not run (--methods)"


def _proof_tables(records: list[dict], budget: float) -> list[str]:
    """zoneopt's first plan and proof per district, and each bound source measured alone."""
    out = ["", f"## zoneopt: first plan and proof ({budget:g} s run)", "",
           "The bound is the best of the sources; **bounds by source** is what each one had proved "
           "when it last raised zoneopt's bound (summary.json's `bounds`): `root_lp` is the LP "
           "without contiguity rows, `lp_cuts` the same LP with separator cuts separated on its "
           "fractional solutions (the step helper's rounds on large districts), `root_cuts` the "
           "LP with neighbour rows and those cuts, `cut_loop` the exact-contiguity cut loop (and "
           "its worker).", "",
           "| district | first plan from | first plan s | D | bound | gap | bounds by source |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for rec in records:
        z = rec["methods"].get("zoneopt")
        if not z or z.get("unavailable") or z.get("error"):
            continue
        by = ", ".join(f"{k} {_fmt(v)}" for k, v in sorted((z.get("bounds") or {}).items())) or "—"
        out.append(f"| {rec['district']} | {z.get('first_source') or '—'} | "
                   f"{_fmt(z.get('first_plan_s'), 1)} | {_fmt(z.get('d_full'))} | "
                   f"{_fmt(z.get('bound'))} | {_fmt(z.get('gap'), 3)} | {by} |")
    rows = [r for r in records if (r["methods"].get("bounds") or {}).get("sources")]
    if rows:
        out += ["", "## Each bound source alone (zoneopt.bounds, no plan needed)", "",
                f"Fixed work: the root LP to optimality; the Lagrangian for {LAGRANGIAN_ITERATIONS} "
                f"subgradient iterations from the LP's duals; the root cuts and the LP cuts until "
                f"they stop paying; the cut loop (from the root cuts) for {CUT_ROUNDS} rounds; "
                f"each of the last four stopped at {budget / 2:g} s at the latest. Every figure is a proven lower bound on "
                "the exact problem (contiguity as CONTRACT.md defines it).", "",
                "| district | root LP | s | Lagrangian | s (iterations) | root cuts | s (LP rounds) "
                "| LP cuts | s (LP rounds) | cut loop | s (rounds) |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for rec in rows:
            s = rec["methods"]["bounds"]["sources"]
            lp, lag, cut = s.get("root_lp", {}), s.get("lagrangian", {}), s.get("cut_loop", {})
            rc, lc = s.get("root_cuts", {}), s.get("lp_cuts", {})
            out.append(f"| {rec['district']} | {_fmt(lp.get('bound'))} | {_fmt(lp.get('seconds'), 1)} "
                       f"| {_fmt(lag.get('bound'))} | {_fmt(lag.get('seconds'), 1)} "
                       f"({lag.get('iterations')}) | {_fmt(rc.get('bound'))} | "
                       f"{_fmt(rc.get('seconds'), 1)} ({rc.get('rounds', '—')}) | "
                       f"{_fmt(lc.get('bound'))} | {_fmt(lc.get('seconds'), 1)} "
                       f"({lc.get('rounds', '—')}) | "
                       f"{_fmt(cut.get('bound'))} | "
                       f"{_fmt(cut.get('seconds'), 1)} ({cut.get('rounds')}) |")
    return out


def _absolute_targets(records: list[dict]) -> list[str]:
    """Issue 6's fixed targets: first plan by 10 s at 2,000/100 and by 60 s at 5,000/250; build
    under 5 s and peak memory under 4 GB at 5,000/250."""
    out = []
    by_size = {(r["n_units"], r["n_schools"]): r for r in records if r["district"].startswith("syn")}
    for size, limit in (((2000, 100), 10.0), ((5000, 250), 60.0)):
        z = by_size.get(size, {}).get("methods", {}).get("zoneopt")
        if not z:
            out.append(f"- {size[0]}x{size[1]}: not run")
            continue
        t = z.get("first_plan_s")
        verdict = "met" if (t is not None and t <= limit) else "not met"
        out.append(f"- {size[0]}x{size[1]}: first verified plan at {_fmt(t, 1)} s "
                   f"(target <= {limit:g} s): {verdict}")
    z = by_size.get((5000, 250), {}).get("methods", {}).get("zoneopt")
    if z and z.get("d_full") is None:
        out.append("- 5000x250: build time and peak memory not judged: zoneopt returned no plan")
    elif z:
        b, m = z.get("build_s"), z.get("peak_mb")
        out.append(f"- 5000x250: build {_fmt(b, 2)} s (target < 5 s): "
                   f"{'met' if b is not None and b < 5 else 'not met'}; peak memory "
                   f"{_fmt(m, 0)} MB (target < 4096 MB): "
                   f"{'met' if m is not None and m < 4096 else 'not met'}")
    return out


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        return str(path)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and write RESULTS.md; returns the exit status."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=None, help=f"UNITSxSCHOOLS list (default {DEFAULT_SIZES})")
    ap.add_argument("--budget", type=float, default=None, help="seconds per solve (default 60)")
    ap.add_argument("--methods", default=",".join(METHODS), help="subset of " + ",".join(METHODS))
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"), help="the markdown report")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 200x10 and 800x40, 10 s budget, no demo")
    ap.add_argument("--no-demo", action="store_true", help="leave out the Sacramento demo")
    ap.add_argument("--real", default=DEFAULT_REAL,
                    help=f"real districts of benchmarks/real.py (default {DEFAULT_REAL}; '' for none)")
    ap.add_argument("--from-json", default=None, metavar="RESULTS_JSON",
                    help="only re-render --out from the raw figures of an earlier run")
    args = ap.parse_args(argv)
    if args.from_json:
        raw = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
        page = render(raw["records"], float(raw.get("budget", 60.0)), raw["command"], raw["date"],
                      raw["machine"], _display_path(Path(args.from_json)))
        _atomic_write(Path(args.out), page)
        print(f"wrote {args.out} from {args.from_json}")
        return 0

    if args.quick:
        args.sizes = args.sizes or "200x10,800x40"
        args.budget = args.budget or EARLY_S
        args.no_demo = True
        args.real = ""
    args.sizes = DEFAULT_SIZES if args.sizes is None else args.sizes  # "" runs no synthetic city
    args.budget = float(args.budget or 60.0)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        ap.error(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")

    specs: list[tuple] = [("synthetic", n, m, SEED) for n, m in parse_sizes(args.sizes)]
    if not args.no_demo:
        if demo_available():
            specs.append(("demo",))
        else:
            print("zoneopt.demo.demo_district not available: the Sacramento demo is skipped",
                  file=sys.stderr)
    specs += [("real", name.strip()) for name in args.real.split(",") if name.strip()]

    command = "python -m benchmarks.run" + ("" if argv is None and len(sys.argv) <= 1 else
                                            " " + " ".join(sys.argv[1:] if argv is None else argv))
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    mach = machine()
    out = Path(args.out)
    raw = HERE / "out" / f"{out.stem.lower()}.json"
    records: list[dict] = []
    for spec in specs:
        extra = spec_extra_km(spec)
        print(f"{spec_label(spec)}:", flush=True)
        rec = run_district(spec, methods, args.budget, extra,
                           log=lambda s: print(s, flush=True))
        add_ratios(rec, args.budget)
        records.append(rec)
        # Write after every district, so a long run that is stopped still leaves its figures.
        _atomic_write(out, render(records, args.budget, command, started, mach,
                                  _display_path(raw)))
        _atomic_write(raw, json.dumps({"command": command, "date": started, "machine": mach,
                                       "budget": args.budget, "records": records},
                                      indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
