"""Regenerate this folder's sample files: a district's own exports, with their own column names.

Run from the repository root: ``.venv/bin/python data/capacity_redraw/make_files.py``.

- ``planning_blocks.geojson``: the demo's 45 census tracts of eastern Sacramento County
  (``zoneopt.demo``), exported as a planner's GIS would: ``PBID`` (block id), ``K5LiveAtt``
  (elementary students living there), ``ES1516`` (the elementary school they attend today, by
  *name*), ``Acres``; no low-income column (this is a capacity question).
- ``county_schools.csv``: every school of the county as points (``NAME``, ``TYPE`` ES/MS/HS,
  ``DISTRICT``, ``SRC``, ``SEATS``, ``lon``, ``lat``): the demo's 27 elementary schools of the
  "Eastern" district, the middle and high schools of the same area, and the elementary schools
  of two neighbouring districts. Only ``TYPE == 'ES' and DISTRICT == 'Eastern'`` are zoned.
- ``board_option_a.csv``: a hand-drawn option (``PBID,NAME``): today's zones with the three
  most overcrowded schools each handing one block to a neighbour, as a board might sketch it.
- ``scenario.toml``: the capacity redraw, with the ``[columns]`` that name the files' columns.

Every figure is illustrative (derived from Census 2000 tracts as ``zoneopt/demo.py`` documents);
none of these are real schools.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zoneopt import demo, io

HERE = Path(__file__).resolve().parent

SCENARIO = """\
# A capacity redraw: no school over capacity or under 55% full, moving as few students as
# possible; nothing is balanced, so the blocks need no low-income column.
[objective]
balance = "none"
moved_weight = 1.0

[constraints]
max_utilization = 1.0
min_utilization = 0.55
max_extra_distance_km = 4.0
contiguity = true

[solver]
time_limit_s = 30

[report]
title = "Eastern district: elementary capacity redraw (illustrative)"

# The names in the district's own files.
[columns]
unit_id = "PBID"
students = "K5LiveAtt"
current_school = "ES1516"
school_id = "NAME"
capacity = "SEATS"
schools_where = "TYPE == 'ES' and DISTRICT == 'Eastern'"
"""


def main() -> None:
    district = demo.demo_district()
    units, schools = demo.demo_frames()
    names = schools["name"].tolist()
    today = [names[j] for j in district.status_quo]
    blocks = units[["geometry"]].to_crs("EPSG:4326").copy()
    blocks.insert(0, "PBID", [f"PB{k + 1:03d}" for k in range(len(units))])
    blocks.insert(1, "K5LiveAtt", units["students"].to_numpy())
    blocks.insert(2, "ES1516", today)
    acres = units.to_crs(units.estimate_utm_crs()).area / 4046.8564224
    blocks.insert(3, "Acres", acres.round(1).to_numpy())
    path = HERE / "planning_blocks.geojson"
    path.unlink(missing_ok=True)
    io.write_vector(path, blocks, driver="GeoJSON", COORDINATE_PRECISION=6)

    rows = [
        {"NAME": n, "TYPE": "ES", "DISTRICT": "Eastern", "SRC": "illustrative", "SEATS": int(c),
         "lon": round(p.x, 6), "lat": round(p.y, 6)}
        for n, c, p in zip(names, schools["capacity"], schools.geometry, strict=True)
    ]
    # Middle and high schools of the same area (not zoned here), placed at block centres.
    wgs = units.to_crs("EPSG:4326").geometry.representative_point()
    for k, (kind, seats) in enumerate([("MS", 1100), ("MS", 1000), ("MS", 1200), ("HS", 2200),
                                       ("HS", 1900)]):
        p = wgs.iloc[5 + 8 * k]
        rows.append({"NAME": f"Eastern {'Middle' if kind == 'MS' else 'High'} {k + 1}",
                     "TYPE": kind, "DISTRICT": "Eastern", "SRC": "illustrative", "SEATS": seats,
                     "lon": round(p.x + 0.002, 6), "lat": round(p.y + 0.002, 6)})
    # Elementary schools of two neighbouring districts, outside this district's blocks.
    for k in range(6):
        rows.append({"NAME": f"{'River' if k < 3 else 'Delta'} Elementary {k % 3 + 1}",
                     "TYPE": "ES", "DISTRICT": "River" if k < 3 else "Delta",
                     "SRC": "illustrative", "SEATS": 600 + 25 * k,
                     "lon": round(-121.52 + 0.03 * k, 6), "lat": round(38.45 + 0.01 * k, 6)})
    io.write_csv(HERE / "county_schools.csv", pd.DataFrame(rows))

    # The board's sketch: the three most overcrowded schools each give one block (the one
    # farthest from the school among those touching another zone) to that neighbouring zone.
    load = np.bincount(district.status_quo, weights=district.students, minlength=len(names))
    util = load / district.capacity
    option = district.status_quo.copy()
    adj = district.adjacency.tocsr()
    for j in np.argsort(-util, kind="stable")[:3]:
        members = [i for i in np.flatnonzero(option == j) if i != district.home_unit[j]]
        edge = [(district.dist_km[i, j], i, option[n]) for i in members
                for n in adj[i].indices if option[n] != j]
        if edge:
            _, i, to = max(edge)
            option[i] = to
    io.write_csv(HERE / "board_option_a.csv",
                 pd.DataFrame({"PBID": blocks["PBID"], "NAME": [names[j] for j in option]}))
    (HERE / "scenario.toml").write_text(SCENARIO, encoding="utf-8")


if __name__ == "__main__":
    main()
