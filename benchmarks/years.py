"""Benchmark of issue 11: five plan years x three series against the single-year search.

Usage::

    python -m benchmarks.years                       # 2,000 units x 100 schools, 60 s per run
    python -m benchmarks.years --units 800 --schools 40 --budget 30

On one synthetic city (:func:`zoneopt.synthetic.synthetic_district`, ``max_extra_distance_km`` 3)
three searches run in the same process, one after the other, each with the same budget and with the
proof worker off (``ZONEOPT_NO_WORKER``: one core each, so the figures do not depend on what else
the shared machine runs on its second core):

1. **single**: today's counts, the contract's single-year problem;
2. **same**: five plan years x three series whose counts all equal today's: the same feasible plans
   and the same objective as *single*, so the time to reach *single*'s final objective measures
   exactly what carrying 15 (year, series) pairs costs;
3. **growth**: a realistic projection (east of town grows up to 2% a year, west shrinks up to 2%;
   ``low``/``high`` -/+ 0.5% a year), a different and harder problem; the time to reach the
   objective value *single* reached (mean D over the plan years against today's D) is reported
   when it gets there.

The ratio is time-to-target (a plan within 1% of the single-year search's final objective) of the
multi-year search over that of the single-year search, both read from the plans' traces (the time
each incumbent was found). The report goes to
``benchmarks/RESULTS_years.md``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
YEARS = (2027, 2028, 2029, 2030, 2031)
SERIES = ("mid", "low", "high")
#: Relative tolerance of "the same quality" (1%).
QUALITY_TOL = 0.01


def time_to_reach(trace: list[dict], target: float, tol: float = 1e-9) -> float:
    """Seconds until the first incumbent with objective <= ``target`` (inf when never)."""
    for entry in trace:
        obj = entry.get("objective")
        if obj is not None and obj <= target + tol:
            return float(entry["seconds"])
    return math.inf


def projections(district, *, growth: bool) -> pd.DataFrame:
    """Long projections of every unit for :data:`YEARS` x :data:`SERIES` (no grades)."""
    import shapely

    xy = shapely.get_coordinates(shapely.centroid(district.units.geometry.to_numpy()))
    east = (xy[:, 0] - xy[:, 0].min()) / max(np.ptp(xy[:, 0]), 1.0)
    pace = -0.02 + 0.04 * east if growth else np.zeros(district.n_units)
    step = {"mid": 0.0, "low": -0.005, "high": 0.005} if growth else dict.fromkeys(SERIES, 0.0)
    share = np.divide(district.low_income, district.students, out=np.zeros(district.n_units),
                      where=district.students > 0)
    parts = []
    for k, year in enumerate(YEARS, start=1):
        for series in SERIES:
            st = np.rint(district.students * (1 + pace + step[series]) ** k).astype(np.int64)
            lo = np.minimum(np.rint(st * share).astype(np.int64), st)
            parts.append(pd.DataFrame({"unit_id": district.unit_ids, "year": year,
                                       "series": series, "students": st, "low_income": lo}))
    return pd.concat(parts, ignore_index=True)


def run(n_units: int, n_schools: int, budget: float, seed: int = 0) -> dict:
    """Run the three searches; returns their figures and the ratios."""
    from zoneopt import District, Scenario, check_plan
    from zoneopt.solve import optimize
    from zoneopt.synthetic import synthetic_district

    os.environ["ZONEOPT_NO_WORKER"] = "1"
    units, schools = synthetic_district(n_units, n_schools, seed=seed)
    district = District.from_frames(units, schools)
    base = {"constraints": {"max_extra_distance_km": 3.0}, "solver": {"time_limit_s": budget}}
    out: dict = {"n_units": n_units, "n_schools": n_schools, "budget_s": budget}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"single": Scenario.from_dict(base)}
        for name, growth in (("same", False), ("growth", True)):
            path = Path(tmp) / f"{name}.csv"
            projections(district, growth=growth).to_csv(path, index=False)
            runs[name] = Scenario.from_dict({**base, "years": {
                "projections": str(path), "plan": list(YEARS), "series": list(SERIES)}})
        for name, scenario in runs.items():
            t0 = time.perf_counter()
            plan = optimize(district, scenario)
            wall = time.perf_counter() - t0
            check_plan(district, scenario, plan.positions, summary=plan.summary).raise_if_failed()
            out[name] = {"objective": plan.summary["objective"], "bound": plan.summary["bound"],
                         "status": plan.status, "seconds": wall, "trace": plan.trace,
                         # a bound may enter the trace before the first plan (an LP asked
                         # when the repair fails)
                         "first_plan_s": next((e["seconds"] for e in plan.trace
                                               if e.get("objective") is not None), math.nan)}
    # "The same quality": within QUALITY_TOL of the single-year search's final objective.
    target = out["single"]["objective"] * (1 + QUALITY_TOL)
    t_single = time_to_reach(out["single"]["trace"], target)
    for name in ("same", "growth"):
        t = time_to_reach(out[name]["trace"], target)
        out[name]["time_to_single_final_s"] = t
        out[name]["ratio"] = t / t_single if t_single > 0 else math.nan
    out["single"]["time_to_final_s"] = t_single
    return out


def report(results: list[dict]) -> str:
    """The markdown report of one or more :func:`run` results (repeats of the same benchmark)."""
    res = results[0]

    def fmt(x: float, spec: str = ".1f") -> str:
        return "never" if not math.isfinite(x) else format(x, spec)

    lines = [
        "# Years benchmark (issue 11): 5 plan years x 3 series vs the single-year search",
        "",
        f"Synthetic city of {res['n_units']} units and {res['n_schools']} schools "
        f"(`synthetic_district(seed=0)`, max_extra_distance_km 3), {res['budget_s']:g} s per "
        "search, proof worker off (one core each), the three searches one after the other in one "
        f"process on a shared 2-core machine ({platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.0f} at the end: other sessions ran alongside, so wall "
        "times are noisy; each repeat is a fresh run). Times are when each search first found a "
        "plan within 1% of the single-year search's final objective, read from its trace.",
        "",
        "| run | search | objective | bound | first plan (s) | time to within 1% of single's "
        "final (s) | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k, r in enumerate(results, start=1):
        s, same, gr = r["single"], r["same"], r["growth"]
        lines += [
            f"| {k} | single year | {s['objective']:.4f} | {s['bound']:.4f} | "
            f"{s['first_plan_s']:.1f} | {fmt(s['time_to_final_s'])} | 1 |",
            f"| {k} | 5 years x 3 series, counts = today's | {same['objective']:.4f} | "
            f"{same['bound']:.4f} | {same['first_plan_s']:.1f} | "
            f"{fmt(same['time_to_single_final_s'])} | {fmt(same['ratio'], '.2f')} |",
            f"| {k} | 5 years x 3 series, growth projection | {gr['objective']:.4f} | "
            f"{gr['bound']:.4f} | {gr['first_plan_s']:.1f} | {fmt(gr['time_to_single_final_s'])} "
            f"| {fmt(gr['ratio'], '.2f')} |",
        ]
    ratios = sorted(r["same"]["ratio"] for r in results)
    lines += [
        "",
        f"Median ratio (counts = today's) over {len(results)} run(s): "
        f"{fmt(ratios[len(ratios) // 2], '.2f')}.",
        "",
        "The *counts = today's* rows solve the single-year problem written as 15 (year, series) "
        "pairs: identical feasible plans and objective, so their ratio is the cost of the "
        "multi-year machinery. The *growth* rows are a different problem (mean D over five years "
        "of a shifting population), whose best value need not equal the single-year one; 'never' "
        "means a search did not get within 1% of the single-year final value in its budget.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: run and write ``benchmarks/RESULTS_years.md``."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--units", type=int, default=2000)
    p.add_argument("--schools", type=int, default=100)
    p.add_argument("--budget", type=float, default=60.0)
    p.add_argument("--repeat", type=int, default=1, help="fresh runs of the same benchmark")
    p.add_argument("--out", default=str(HERE / "RESULTS_years.md"))
    args = p.parse_args(argv)
    results = [run(args.units, args.schools, args.budget) for _ in range(args.repeat)]
    text = report(results)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
