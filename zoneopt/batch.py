"""Many districts at once on a Dask cluster (``zoneopt batch``).

Each subfolder of the districts folder holds one district: ``units.*`` (any vector format geopandas
reads), ``schools.*`` (CSV with lon/lat or points) and an optional ``scenario.toml``. Every district is
an independent task that reads its own files on the worker, solves and writes its plan folder under
``OUT/<subfolder>/``; the driver collects one row per district into ``OUT/batch.csv``. A task is
retried once if its worker fails; a district with bad input, a proven-infeasible policy or no plan in
time is reported in its row, and the others complete.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InfeasibleError, NoSolutionError, ZoneoptInputError

#: Extensions read as the units file (geopandas formats) and, with .csv, as the schools file.
VECTOR_EXTENSIONS = (".gpkg", ".geojson", ".json", ".shp", ".parquet", ".geoparquet", ".fgb",
                     ".zip")
SCHOOL_EXTENSIONS = (".csv", *VECTOR_EXTENSIONS)

#: batch.csv columns before the summary figures.
LEAD_COLUMNS = ["district", "status", "exit_code", "error", "folder", "wall_seconds"]


@dataclass(frozen=True)
class DistrictFiles:
    """The input files of one district folder."""

    name: str
    units: Path
    schools: Path
    scenario: Path | None


def _one_file(folder: Path, stem: str, extensions: tuple[str, ...], hint: str) -> Path:
    found = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.stem == stem and p.suffix.lower() in extensions)
    if not found:
        raise ZoneoptInputError(
            f"no {stem} file in this district folder; add {stem}{hint} "
            f"(one of {', '.join(stem + e for e in extensions)})", file=folder)
    if len(found) > 1:
        raise ZoneoptInputError(
            f"several {stem} files ({', '.join(p.name for p in found)}); keep exactly one",
            file=folder)
    return found[0]


def district_files(folder: str | os.PathLike) -> DistrictFiles:
    """Find a district folder's ``units.*``, ``schools.*`` and optional ``scenario.toml``.

    Raises
    ------
    ZoneoptInputError
        A file is missing or ambiguous (the message names the folder and what to add).
    """
    folder = Path(folder)
    units = _one_file(folder, "units", VECTOR_EXTENSIONS, ".gpkg")
    schools = _one_file(folder, "schools", SCHOOL_EXTENSIONS, ".csv")
    scenario = folder / "scenario.toml"
    return DistrictFiles(folder.name, units.resolve(), schools.resolve(),
                         scenario.resolve() if scenario.is_file() else None)


def find_districts(districts_dir: str | os.PathLike, *, exclude: Path | None = None) -> list[Path]:
    """The district subfolders of ``districts_dir`` (sorted; hidden ones and ``exclude`` skipped).

    Raises
    ------
    ZoneoptInputError
        The folder does not exist or holds no subfolder.
    """
    root = Path(districts_dir)
    if not root.is_dir():
        raise ZoneoptInputError("the districts folder does not exist or is not a folder", file=root)
    skip = exclude.resolve() if exclude is not None else None
    found = sorted(p for p in root.iterdir()
                   if p.is_dir() and not p.name.startswith((".", "_"))
                   and (skip is None or p.resolve() != skip))
    if not found:
        raise ZoneoptInputError(
            "no district subfolders; put each district in its own subfolder holding units.*, "
            "schools.* and optionally scenario.toml", file=root)
    return found


def solve_district(
    folder: str | os.PathLike,
    out: str | os.PathLike,
    *,
    time_limit: float | None = None,
    solver: str | None = None,
    maps: bool = True,
) -> dict[str, Any]:
    """Read, solve and write one district (the task each Dask worker runs).

    Bad input, infeasibility and running out of time are outcomes, returned as the row's status; any
    other exception propagates so that Dask retries the task.

    Parameters
    ----------
    folder
        The district folder (``units.*``, ``schools.*``, optional ``scenario.toml``).
    out
        The plan folder to write (a summary.json-only folder when there is no plan).
    time_limit, solver
        Override ``solver.time_limit_s`` and ``solver.name``.
    maps
        Write map.html and report.html.

    Returns
    -------
    dict
        The batch.csv row: district, status, exit_code, error, folder, wall_seconds, figures.
    """
    from .district import district_for
    from .scenario import load_scenario
    from .solve import optimize

    t0 = time.perf_counter()
    folder, out = Path(folder), Path(out)
    row: dict[str, Any] = {"district": folder.name, "folder": None}
    plan = None
    try:
        files = district_files(folder)
        scenario = single_core(load_scenario(files.scenario))
        district = district_for(files.units, files.schools, scenario)
        plan = optimize(district, scenario, time_limit=time_limit, solver=solver)
        plan.save(out, maps=maps)
        row.update(status=plan.status, exit_code=0, error="")
    except ZoneoptInputError as exc:
        row.update(status="error", exit_code=exc.exit_code, error=f"bad input: {exc}")
    except (InfeasibleError, NoSolutionError) as exc:
        plan = exc.plan
        if plan is not None:
            plan.save(out, maps=False)
        row.update(status=plan.status if plan is not None else type(exc).__name__,
                   exit_code=exc.exit_code, error=str(exc))
    if plan is not None:
        row["folder"] = out.name
        row.update(_figures(plan.summary))
    row["wall_seconds"] = time.perf_counter() - t0
    return row


def single_core(scenario: Any) -> Any:
    """The scenario for a one-core Dask task: ``solver.threads = 1`` unless the file sets a number.

    A worker owns one core (``threads_per_worker=1``); letting each solve take every core would
    oversubscribe the machine, and a Dask worker (a daemon process) cannot start the solver's own
    helper process.
    """
    return scenario.with_values({"solver.threads": 1}) if scenario.solver.threads == 0 else scenario


def _figures(summary: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in summary.items() if k not in ("scenario", "diagnosis", "status")}
    if summary.get("diagnosis"):
        out["diagnosis"] = "; ".join(summary["diagnosis"])
    return out


@contextlib.contextmanager
def dask_client(*, scheduler: str | None = None, n_workers: int | None = None,
                client: Any = None, timeout: float = 20.0) -> Iterator[Any]:
    """A ``dask.distributed.Client``: the given one, one on ``scheduler``, or a local cluster.

    The local cluster has one single-threaded worker process per usable core (``n_workers`` to
    choose); its dashboard takes any free port, so clusters never compete for one. Clusters and
    clients opened here are closed on exit; a given ``client`` is left open. ``timeout`` bounds the
    wait (seconds) for the scheduler to answer.
    """
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            own = Client(scheduler, timeout=f"{timeout}s")
        except OSError as exc:
            raise ZoneoptInputError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({exc}); check the address "
                "(e.g. tcp://host:8786) or omit --scheduler to use a local cluster",
                column="--scheduler") from None
        try:
            yield own
        finally:
            own.close()
        return
    import dask

    workers = n_workers or _usable_cores()
    # A task whose worker dies is run once more, then reported (KilledWorker), like a task that
    # raises (``retries=1``); Dask's default would try it on three workers before giving up. The
    # workers' statistical profiler (the dashboard's "Profile" page) is off: on Python 3.11 before
    # 3.11.9 its sys._current_frames() can deadlock with the garbage collector (CPython
    # gh-106883), which hung this project's batch test for 11 minutes until it was killed.
    settings = {"distributed.scheduler.allowed-failures": 1,
                "distributed.worker.profile.enabled": False}
    with _quiet_dask(), dask.config.set(settings), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster, Client(cluster) as own:
        yield own


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Keep the cluster's start and stop chatter (INFO) out of a planner's terminal unless -v."""
    import logging

    if logging.getLogger("zoneopt").getEffectiveLevel() <= logging.INFO:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("distributed", "bokeh", "tornado")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def batch(
    districts_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    time_limit: float | None = None,
    solver: str | None = None,
    maps: bool = True,
    workers: int | None = None,
    client: Any = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Solve every district under ``districts_dir`` on a Dask cluster; write plans and batch.csv.

    Parameters
    ----------
    districts_dir
        One subfolder per district with ``units.*``, ``schools.*`` and optionally ``scenario.toml``.
    out
        Output folder: ``OUT/<subfolder>/`` per district and ``OUT/batch.csv``.
    scheduler
        Address of a Dask scheduler (e.g. ``tcp://10.0.0.5:8786``); a local cluster when None. The
        workers must see the same file paths (a shared file system).
    time_limit, solver
        Override each scenario's ``solver.time_limit_s`` and ``solver.name``.
    maps
        Write map.html and report.html for each plan.
    workers
        Worker processes of the local cluster (default: every usable core).
    client
        An open ``dask.distributed.Client`` to use instead (left open).
    progress
        A tqdm bar over the districts.

    Returns
    -------
    pandas.DataFrame
        The content of batch.csv: one row per district (sorted by name) with ``district``,
        ``status`` (optimal, feasible, infeasible, no_solution or error), ``exit_code`` (0, 2, 3, 4,
        or 1 for an unexpected failure after one retry), ``error``, ``folder``, ``wall_seconds`` and
        the summary figures.

    Raises
    ------
    ZoneoptInputError
        The districts folder is missing or empty, or the scheduler cannot be reached.
    """
    out = Path(out).resolve()
    folders = find_districts(districts_dir, exclude=out)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(folders), desc="batch", unit="district")
    try:
        with dask_client(scheduler=scheduler, n_workers=workers, client=client) as dc:
            from dask.distributed import as_completed

            futures = {
                dc.submit(solve_district, str(f.resolve()), str(out / f.name),
                          time_limit=time_limit, solver=solver, maps=maps,
                          retries=1, pure=False, key=f"zoneopt-district-{f.name}-{time.time_ns()}"):
                f.name
                for f in folders
            }
            for future in as_completed(futures):
                name = futures[future]
                try:
                    rows[name] = future.result()
                except Exception as exc:  # noqa: BLE001 - one district's failure must not stop the rest
                    rows[name] = {
                        "district": name, "status": "error", "exit_code": 1, "folder": None,
                        "error": f"failed after one retry: {_format_exception(exc)}",
                    }
                if bar is not None:
                    bar.set_postfix_str(f"{name}: {rows[name]['status']}")
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    table = batch_table([rows[f.name] for f in folders])
    from . import io

    io.write_csv(out / "batch.csv", table)
    return table


def batch_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The batch.csv frame: the lead columns, then every summary figure seen, in order."""
    columns = list(LEAD_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns and k != "diagnosis"]
    if any("diagnosis" in row for row in rows):
        columns.append("diagnosis")
    table = pd.DataFrame(rows, columns=columns)
    for column in columns:
        values = [row[column] for row in rows if row.get(column) is not None]
        # Counts stay whole numbers in batch.csv even where failed rows leave gaps.
        if values and all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
                          for v in values):
            table[column] = pd.array([row.get(column) for row in rows], dtype="Int64")
    return table


def _format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


__all__ = ["DistrictFiles", "batch", "batch_table", "dask_client",
           "district_files", "find_districts", "solve_district"]
