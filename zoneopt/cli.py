"""The `zoneopt` command line (CONTRACT.md). Thin: every command calls the public Python API.

Exit status: 0 a plan was written; 2 bad input; 3 proven infeasible; 4 no plan within the time limit;
130 interrupted before a plan could be written.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from .errors import InfeasibleError, NoSolutionError, ZoneoptError, ZoneoptInputError

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 2, 3, 4
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

    d = sub.add_parser("demo", help="the shipped real-data example, end to end")
    d.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    _solver_options(d)

    u = sub.add_parser("units", help="build a units file from census block groups and ACS tables")
    u.add_argument("--block-groups", required=True, help="TIGER/Line or cartographic boundary file")
    u.add_argument("--acs", action="append", required=True, help="ACS table (CSV or API JSON)")
    u.add_argument("--boundary", help="district boundary polygon file (units are clipped to it)")
    g = u.add_mutually_exclusive_group(required=True)
    g.add_argument("--students-total", type=int, help="students to spread by elementary-age children")
    g.add_argument("--students", help="CSV of geocoded students (lon, lat, optional low_income)")
    u.add_argument("--out", required=True, help="units file to write (.gpkg)")
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

    b = sub.add_parser("batch", help="solve every district under a folder on a Dask cluster")
    b.add_argument("districts", help="folder with one subfolder per district")
    b.add_argument("--out", required=True)
    b.add_argument("--scheduler", help="Dask scheduler address (a local cluster when omitted)")
    _solver_options(b)
    b.add_argument("--no-maps", action="store_true", help="skip map.html and report.html per plan")
    b.add_argument("--workers", type=int, help="local worker processes (default: every core)")
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


def _headline(plan: Any, out: Path) -> None:
    s = plan.summary
    print(
        f"{s['status']}: dissimilarity {s['dissimilarity_before']:.4f} -> "
        f"{s['dissimilarity_after']:.4f} (proven bound {s['bound']:.4f}, gap {s['gap']:.1%}); "
        f"{s['students_moved']} students moved ({s['moved_share']:.1%}); mean distance "
        f"{s['mean_distance_km_before']:.2f} -> {s['mean_distance_km_after']:.2f} km; "
        f"{s['solve_seconds']:.1f} s with {s['solver']}"
    )
    if s.get("interrupted"):
        print("note: the search was interrupted (Ctrl-C); this is the best plan found until then")
    if s.get("solver_note"):
        print(f"note: {s['solver_note']}")
    print(f"wrote {out}/")


def _cmd_optimize(args) -> int:
    from .district import District
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    district = District.from_files(args.units, args.schools,
                                   travel_matrix=scenario.travel.matrix or None)
    return _solve_and_write(district, scenario, args, Path(args.out))


def _cmd_demo(args) -> int:
    from .demo import demo_district, demo_scenario

    print("zoneopt demo: Sacramento County census tracts (Census 2000) with 24 illustrative schools")
    return _solve_and_write(demo_district(), demo_scenario(), args, Path(args.out))


def _cmd_units(args) -> int:
    from .census import build_units, write_units

    units = build_units(args.block_groups, args.acs, boundary=args.boundary,
                        students_total=args.students_total, students=args.students)
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


def _cmd_frontier(args) -> int:
    from .scenarios import frontier_command

    return frontier_command(args)


def _cmd_batch(args) -> int:
    from .batch import batch_command

    return batch_command(args)


_COMMANDS = {
    "optimize": _cmd_optimize,
    "demo": _cmd_demo,
    "units": _cmd_units,
    "frontier": _cmd_frontier,
    "batch": _cmd_batch,
}


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
