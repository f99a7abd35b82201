"""The `zoneopt` command line (CONTRACT.md). Thin: every command calls the public Python API.

Exit status: 0 a plan was written; 2 bad input; 3 proven infeasible; 4 no plan within the time limit;
5 ``evaluate``: the given plan breaks a rule (its folder is written all the same); 130 interrupted
before a plan could be written.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from .errors import InfeasibleError, NoSolutionError, ZoneoptError, ZoneoptInputError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION, EXIT_BROKEN_RULES = 0, 2, 3, 4, 5
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zoneopt",
        description="Redraw school attendance zones that balance the socioeconomic mix.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="show progress messages")
    sub = p.add_subparsers(dest="command", required=True)

    o = sub.add_parser("optimize", help="optimise one district and write the output folder")
    o.add_argument("--units", required=True, help="units file (GeoPackage, GeoJSON, Shapefile...)")
    o.add_argument("--schools", required=True, help="schools CSV (lon, lat) or vector file of points")
    o.add_argument("--scenario", help="scenario TOML file (defaults of CONTRACT.md when omitted)")
    o.add_argument("--out", required=True, help="output folder")
    _solver_options(o)
    o.add_argument("--no-maps", action="store_true", help="skip map.html and report.html")

    e = sub.add_parser("evaluate", help="score a hand-drawn plan: figures and every broken rule")
    e.add_argument("--units", required=True, help="units file (GeoPackage, GeoJSON, Shapefile...)")
    e.add_argument("--schools", required=True, help="schools CSV (lon, lat) or vector file of points")
    e.add_argument("--scenario", help="scenario TOML file (defaults of CONTRACT.md when omitted)")
    e.add_argument("--assignment", required=True, help="the plan: CSV unit_id,school_id")
    e.add_argument("--out", required=True, help="output folder")
    e.add_argument("--no-maps", action="store_true", help="skip map.html and report.html")

    d = sub.add_parser("demo", help="the shipped real-data example, end to end")
    d.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    d.add_argument("--years", action="store_true",
                   help="plan 2027-2031 with the demo's enrollment projection (low, mid, high)")
    _solver_options(d)

    u = sub.add_parser("units", help="build a units file from census block groups and ACS tables")
    u.add_argument("--block-groups", required=True, help="TIGER/Line or cartographic boundary file")
    u.add_argument("--acs", action="append", required=True, help="ACS table (CSV or API JSON)")
    u.add_argument("--boundary", help="district boundary polygon file (units are clipped to it)")
    g = u.add_mutually_exclusive_group(required=True)
    g.add_argument("--students-total", type=int, help="students to spread by elementary-age children")
    g.add_argument("--students", help="CSV of geocoded students (lon, lat, optional low_income)")
    u.add_argument("--out", required=True, help="units file to write (.gpkg)")
    u.add_argument("--neighbourhoods", help="TIGER/Line PLACE or COUSUB file (or any polygons with a "
                   "name): writes them as a neighbourhoods file next to --out and adds a "
                   "'neighbourhood' column (majority of each unit's area)")
    u.add_argument("--ses-tiers", type=int, metavar="K",
                   help="also compute the composite SES index and K tiers (needs B19113, B15003, "
                   "B11003 or B09002, B25003, C16002 or B16004 among the --acs tables)")
    u.add_argument("--report-race", action="store_true",
                   help="add report_hispanic, _white, _black, _asian, _other from ACS B03002: "
                   "monitored per school, never used to assign")
    u.add_argument("--ses-weights", metavar="M=W,...",
                   help="weights of the SES measures, e.g. income=2,english=0.5 (default 1 each)")

    f = sub.add_parser("frontier", help="one plan per value of a scenario key")
    f.add_argument("--units", required=True)
    f.add_argument("--schools", required=True)
    f.add_argument("--scenario")
    f.add_argument("--vary", required=True, help="KEY=V1,V2,... e.g. constraints.max_moved_share=0.1,0.2")
    f.add_argument("--out", required=True)
    _solver_options(f)
    f.add_argument("--no-maps", action="store_true", help="skip map.html and report.html per plan")
    f.add_argument("--parallel", action="store_true",
                   help="solve the values independently on Dask workers (no warm starts)")
    f.add_argument("--workers", type=int, help="local worker processes for --parallel (default: cores)")
    f.add_argument("--scheduler", help="Dask scheduler address for --parallel (a local cluster when omitted)")

    pr = sub.add_parser("project", help="project enrollment by unit, year and grade (cohort "
                        "survival; low, mid and high series) for [years] projections")
    pr.add_argument("--history", required=True,
                    help="CSV unit_id,year,grade,students[,low_income] of past years (two or more)")
    pr.add_argument("--years", type=int, default=5, help="years to project after the last (default 5)")
    pr.add_argument("--births", help="CSV unit_id,year,births: kindergarten follows births 5 years before")
    pr.add_argument("--housing", help="CSV unit_id,year,housing_units of new housing")
    pr.add_argument("--yield", dest="yield_per_unit", type=float, default=0.3,
                    help="students (grades 0..top grade) per new housing unit (default 0.3)")
    pr.add_argument("--top-grade", type=int, default=5, help="last grade of the schools (default 5)")
    pr.add_argument("--shrink", type=float, default=50.0,
                    help="students by which each unit's ratios lean on the district's (default 50)")
    pr.add_argument("--out", required=True, help="projections CSV to write")

    b = sub.add_parser("batch", help="solve every district under a folder on a Dask cluster")
    b.add_argument("districts", help="folder with one subfolder per district")
    b.add_argument("--out", required=True)
    b.add_argument("--scheduler", help="Dask scheduler address (a local cluster when omitted)")
    _solver_options(b)
    b.add_argument("--no-maps", action="store_true", help="skip map.html and report.html per plan")
    b.add_argument("--workers", type=int, help="local worker processes (default: every core)")
    t = sub.add_parser("travel", help="travel matrix (walk or drive) from an OpenStreetMap extract")
    t.add_argument("--units", required=True, help="units file, as for optimize")
    t.add_argument("--schools", required=True, help="schools file, as for optimize")
    t.add_argument("--network", required=True,
                   help="OpenStreetMap .osm.pbf, .osm or .osm.bz2 extract, or an osmnx .graphml")
    t.add_argument("--mode", required=True, choices=["walk", "drive"])
    t.add_argument("--out", required=True, help="travel matrix CSV to write")
    t.add_argument("--max-km", type=float, default=float("inf"),
                   help="leave out pairs farther than this (default: no limit)")
    t.add_argument("--barriers-out", help="also write the extract's freeways, railways and rivers "
                   "(a lines file for [travel] barriers: .gpkg or .geojson)")
    return p


def _solver_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--time-limit", type=float, help="seconds for the whole search of one plan")
    p.add_argument("--solver", help="highs (default), cbc or a PuLP solver name")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--solver-log", action="store_true", help="show the MIP solver's log")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(message)s")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return _COMMANDS[args.command](args)
    except ZoneoptInputError as exc:
        print(f"zoneopt: bad input: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except InfeasibleError as exc:
        print(f"zoneopt: infeasible: {exc}", file=sys.stderr)
        return EXIT_INFEASIBLE
    except NoSolutionError as exc:
        print(f"zoneopt: no plan: {exc}", file=sys.stderr)
        return EXIT_NO_SOLUTION
    except ZoneoptError as exc:
        print(f"zoneopt: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("zoneopt: interrupted; no output folder was written or changed", file=sys.stderr)
        return EXIT_INTERRUPTED


def _solve_and_write(district, scenario, args, out: Path) -> int:
    from .solve import optimize

    if scenario.report.addresses:  # a bad address file fails before the search, not after it
        from .desk.addresses import read_addresses

        read_addresses(scenario.report.addresses)
    try:
        plan = optimize(district, scenario, time_limit=args.time_limit, solver=args.solver,
                        progress=args.progress, log_solver=args.solver_log)
    except (InfeasibleError, NoSolutionError) as exc:
        if exc.plan is not None:
            exc.plan.save(out)
        raise
    plan.save(out, maps=not getattr(args, "no_maps", False))
    _headline(plan, out)
    return EXIT_OK


def headline(summary: dict[str, Any]) -> str:
    """One line saying what the plan achieved, in words true for the scenario used.

    The bound and gap are the objective's (CONTRACT.md); the dissimilarity index is named only when
    the objective balances it.
    """
    from .viz.wording import objective_name, question

    s = summary
    o = s.get("scenario", {}).get("objective", {})
    balance = o.get("balance", "dissimilarity")
    named = objective_name(question(s.get("scenario") or {}))
    if s["status"] == "given":
        broken = len(s.get("violations") or [])
        parts = [f"given plan: {'every rule holds' if not broken else f'{broken} rule(s) broken'}"]
        parts.append(f"objective ({named}) {s['objective']:.4f}")
    else:
        gap = f"gap {s['gap']:.1%}"
        if s["status"] == "feasible" and s["objective"] >= s["bound"]:
            # a relative gap of 100% over a bound of 0 hides how close a near-zero plan is
            gap += f" (at most {s['objective'] - s['bound']:.4f} above the best possible)"
        parts = [f"{s['status']}: objective ({named}) {s['objective']:.4f}, proven bound on it "
                 f"{s['bound']:.4f}, {gap}, stopped by {s.get('stopped_by')}"]
    if balance == "dissimilarity":
        parts.append(f"dissimilarity {s['dissimilarity_before']:.4f} -> "
                     f"{s['dissimilarity_after']:.4f}")
    parts.append(f"{s['students_moved']} students moved ({s['moved_share']:.1%})")
    parts.append(f"mean distance {s['mean_distance_km_before']:.2f} -> "
                 f"{s['mean_distance_km_after']:.2f} km")
    if s["status"] != "given":
        parts.append(f"{s['solve_seconds']:.1f} s with {s['solver']}")
    return "; ".join(parts)


def time_limit_note(clock_ended: Any) -> str:
    """What a run that the time limit ended means for its plan and its bound (``clock_ended`` of
    summary.json; None for a summary without it)."""
    from .solve.state import plan_may_differ

    if plan_may_differ(clock_ended):
        return ("the time limit ended the search before its work budget was spent; a longer "
                "--time-limit gives the reproducible plan")
    what = " and the ".join(sorted(set(clock_ended)))
    whose = "their" if len(set(clock_ended)) > 1 else "its"
    return (f"the time limit ended the {what} before {whose} work was spent; the plan is "
            "reproducible (the search finished its counted work), only the proven bound and gap "
            f"depend on the machine's speed; a longer --time-limit lets the {what} finish")


def _headline(plan: Any, out: Path) -> None:
    s = plan.summary
    print(headline(s))
    for year, fig in (s.get("years") or {}).items():
        if "max_utilization" in fig:
            print(f"{year}: fullest school {fig['max_utilization']:.1%} ({fig['max_utilization_school']}, "
                  f"{fig['max_utilization_series']} series), dissimilarity {fig['dissimilarity']:.4f}")
    if s.get("interrupted"):
        print("note: the search was interrupted (Ctrl-C); this is the best plan found until then")
    if s.get("stopped_by") == "time_limit":
        print(f"note: {time_limit_note(s.get('clock_ended'))}")
    if s.get("solver_note"):
        print(f"note: {s['solver_note']}")
    print(f"wrote {out}/")


def _cmd_optimize(args) -> int:
    from .district import district_for
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    district = district_for(args.units, args.schools, scenario)
    return _solve_and_write(district, scenario, args, Path(args.out))


def _cmd_evaluate(args) -> int:
    from .district import district_for
    from .evaluate import evaluate, read_assignment
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    district = district_for(args.units, args.schools, scenario)
    plan = evaluate(district, scenario, read_assignment(args.assignment, district))
    out = Path(args.out)
    plan.save(out, maps=not args.no_maps)
    violations = plan.summary["violations"]
    for sentence in violations:
        print(f"zoneopt: rule broken: {sentence}", file=sys.stderr)
    _headline(plan, out)
    return EXIT_BROKEN_RULES if violations else EXIT_OK


def _cmd_demo(args) -> int:
    from .demo import SUBAREA_TRACTS, demo_district, demo_scenario

    district = demo_district()
    print(f"zoneopt demo: {SUBAREA_TRACTS} census tracts of eastern Sacramento County (Census 2000) "
          f"with {district.n_schools} illustrative elementary schools")
    if args.years:
        print("planned for 2027-2031 with the demo's projection from the census age structure")
    return _solve_and_write(district, demo_scenario(years=args.years), args, Path(args.out))


def _cmd_units(args) -> int:
    from .census import build_units, write_units

    units = build_units(args.block_groups, args.acs, boundary=args.boundary,
                        students_total=args.students_total, students=args.students)
    if getattr(args, "neighbourhoods", None):
        from .neighbourhoods import units_with_neighbourhoods

        units = units_with_neighbourhoods(units, args.neighbourhoods, args.out)
    if args.ses_tiers is not None:
        from .census.ses import ses_tiers, tier_summary

        units = ses_tiers(units, args.acs, args.ses_tiers, weights=args.ses_weights)
        print(units.attrs["ses_method"])
        print(tier_summary(units))
    elif args.ses_weights:
        raise ZoneoptInputError("--ses-weights needs --ses-tiers K", column="--ses-weights")
    if args.report_race:
        from .census.groups import race_report_columns

        units = race_report_columns(units, args.acs)
        print(f"report_ columns (monitored, never used to assign): "
              f"{', '.join(c for c in units.columns if c.startswith('report_'))}")
    path = write_units(units, args.out)
    print(f"wrote {len(units)} units, {int(units['students'].sum())} students, "
          f"{int(units['low_income'].sum())} low-income, to {path}")
    return EXIT_OK


def _cmd_project(args) -> int:
    from .census.project import Method, project, write_projections

    method = Method(shrink=args.shrink, yield_per_unit=args.yield_per_unit, top_grade=args.top_grade)
    frame = project(args.history, years=args.years, births=args.births, housing=args.housing,
                    method=method)
    path = write_projections(frame, args.out)
    last = frame["year"].max()
    totals = frame[frame["year"] == last].groupby("series")["students"].sum()
    print(f"wrote {path}: {frame['unit_id'].nunique()} units, years {frame['year'].min()}-{last}; "
          f"students in {last}: " + ", ".join(f"{s} {totals[s]}" for s in ("low", "mid", "high")))
    return EXIT_OK


def _cmd_frontier(args) -> int:
    """0 at least one plan written; 2 bad input; 3 every value proven infeasible; 4 no plan found in
    time for any value."""
    from .district import district_for
    from .scenario import load_scenario
    from .scenarios import frontier, parse_vary
    from .scenarios.compare import label

    scenario = load_scenario(args.scenario)
    key, values = parse_vary(args.vary, scenario)
    district = district_for(args.units, args.schools, scenario)
    t0 = time.perf_counter()
    result = frontier(
        district, scenario, key, values, out=args.out, time_limit=args.time_limit,
        solver=args.solver, progress=True, plan_progress=bool(args.progress),
        log_solver=bool(args.solver_log), maps=not args.no_maps, parallel=bool(args.parallel),
        workers=args.workers, scheduler=args.scheduler,
    )
    balanced = scenario.objective.balance == "dissimilarity"
    for _, row in result.table.iterrows():
        if row["status"] in ("optimal", "feasible"):
            print(f"{key}={label(row['value'])}: {row['status']}, objective {row['objective']:.4f} "
                  f"(gap {row['gap']:.1%})"
                  + (f", dissimilarity {row['dissimilarity_after']:.4f}" if balanced else "")
                  + f", {row['moved_share']:.1%} moved, mean distance "
                  f"{row['mean_distance_km_after']:.2f} km"
                  + (" [time limit]" if row["time_limited"] else ""))
        else:
            print(f"{key}={label(row['value'])}: {row['status']}: {row.get('diagnosis', '')}",
                  file=sys.stderr)
    print(f"wrote {result.out}/ (frontier.csv, frontier.png, frontier.html and {len(values)} plan "
          f"folders) in {time.perf_counter() - t0:.0f} s")
    statuses = set(result.table["status"])
    if statuses & {"optimal", "feasible"}:
        return EXIT_OK
    return EXIT_INFEASIBLE if statuses == {"infeasible"} else EXIT_NO_SOLUTION


def _cmd_batch(args) -> int:
    """0 when every district got a plan; otherwise the exit status of the first district (by name)
    that did not (2 bad input, 3 infeasible, 4 no plan in time, 1 unexpected)."""
    from .batch import batch

    t0 = time.perf_counter()
    table = batch(args.districts, args.out, scheduler=args.scheduler, time_limit=args.time_limit,
                  solver=args.solver, maps=not args.no_maps, workers=args.workers)
    failed = table[table["exit_code"] != 0]
    print(f"{len(table) - len(failed)} of {len(table)} districts planned in "
          f"{time.perf_counter() - t0:.0f} s; wrote {Path(args.out)}/batch.csv")
    for _, row in failed.iterrows():
        print(f"zoneopt: {row['district']}: {row['status']}: {row['error']}", file=sys.stderr)
    return EXIT_OK if failed.empty else int(failed["exit_code"].iloc[0])


def _cmd_travel(args) -> int:
    from .travel import matrix, write_matrix
    from .travel.barriers import osm_barriers, write_barriers

    table = matrix(args.units, args.schools, args.network, mode=args.mode, max_km=args.max_km)
    write_matrix(table, args.out)
    snap = sorted(table.attrs["snap_km"].values())
    print(f"wrote {len(table)} unit-school {args.mode} distances for {table['unit_id'].nunique()} "
          f"of {len(snap)} units to {args.out} (median snap to the network "
          f"{1000 * snap[len(snap) // 2]:.0f} m)")
    if args.barriers_out:
        lines = osm_barriers(args.network)
        write_barriers(lines, args.barriers_out)
        kinds = ", ".join(f"{k} {v}" for k, v in lines["kind"].value_counts().sort_index().items())
        print(f"wrote {len(lines)} barrier lines ({kinds or 'none in this extract'}) to "
              f"{args.barriers_out}")
    return EXIT_OK


_COMMANDS = {
    "optimize": _cmd_optimize,
    "evaluate": _cmd_evaluate,
    "demo": _cmd_demo,
    "units": _cmd_units,
    "project": _cmd_project,
    "frontier": _cmd_frontier,
    "batch": _cmd_batch,
    "travel": _cmd_travel,
}


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
