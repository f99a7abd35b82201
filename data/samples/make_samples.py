"""Regenerate the sample census files of this folder (made-up numbers, exact formats).

Run from the repository root: ``.venv/bin/python data/samples/make_samples.py``. The numbers are
written out below so tests can check figures against values computed by hand from them.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

HERE = Path(__file__).resolve().parent
STATE, COUNTY = "06", "067"
LON0, LAT0, DX, DY = -121.42, 38.50, 0.01, 0.008
TRACTS = ("000101", "000102")

# C17002 _002.._008 estimates and margins, and the margin of _001 (its estimate is their sum).
# "-" / "**": a block group whose estimates are not available (data.census.gov's annotations).
C17002 = {
    "011": ([45, 60, 38, 52, 41, 30, 944], [28, 35, 24, 31, 27, 22, 160], 164),
    "012": ([120, 95, 70, 64, 58, 40, 610], [61, 52, 40, 38, 35, 29, 118], 140),
    "013": ([0, 12, 25, 30, 22, 18, 820], [13, 14, 19, 22, 18, 16, 150], 151),
    "014": ([210, 180, 120, 90, 75, 60, 405], [88, 79, 60, 52, 45, 38, 102], 171),
    "015": ([15, 0, 0, 20, 35, 25, 700], [17, 13, 13, 19, 26, 21, 132], 140),
    "016": ([60, 70, 55, 40, 30, 25, 520], [38, 41, 33, 28, 24, 22, 110], 125),
    "021": ([300, 220, 150, 110, 80, 70, 330], [110, 95, 70, 60, 50, 45, 98], 180),
    "022": ([0, 0, 0, 0, 0, 0, 0], [13, 13, 13, 13, 13, 13, 13], 13),
    "023": None,
    "024": ([90, 85, 60, 70, 45, 50, 600], [50, 48, 36, 40, 30, 33, 125], 150),
    "025": ([25, 30, 20, 15, 10, 12, 888], [20, 22, 18, 15, 12, 13, 170], 175),
    "026": ([40, 50, 35, 30, 20, 25, 700], [30, 33, 25, 23, 18, 20, 140], 160),
}
C17002_LABELS = [
    "Total:", "Total:!!Under .50", "Total:!!.50 to .99", "Total:!!1.00 to 1.24",
    "Total:!!1.25 to 1.49", "Total:!!1.50 to 1.84", "Total:!!1.85 to 1.99",
    "Total:!!2.00 and over",
]
# B01001 _001 (total), _004 (male 5-9), _005 (male 10-14), _028 (female 5-9), _029 (female
# 10-14): (estimate, margin). -666666666 / -222222222: the API's "could not be computed".
B01001 = {
    "011": [(1850, 210), (62, 25), (70, 28), (55, 22), (66, 26)],
    "012": [(1620, 190), (48, 21), (-666666666, -222222222), (51, 20), (44, 19)],
    "013": [(1400, 170), (40, 18), (45, 19), (38, 17), (41, 18)],
    "014": [(1980, 230), (85, 33), (90, 35), (80, 31), (77, 30)],
    "015": [(1150, 150), (0, 13), (30, 16), (25, 15), (0, 13)],
    "016": [(1210, 160), (35, 17), (40, 18), (33, 16), (36, 17)],
    "021": [(2100, 250), (110, 40), (105, 38), (98, 36), (101, 37)],
    "022": [(0, 13), (0, 13), (0, 13), (0, 13), (0, 13)],
    "023": [(1300, 165), (50, 22), (52, 22), (47, 21), (49, 21)],
    "024": [(1500, 180), (70, 27), (66, 26), (64, 25), (60, 24)],
    "025": [(1450, 175), (45, 20), (50, 21), (42, 19), (47, 20)],
    "026": [(1350, 168), (52, 22), (55, 23), (49, 21), (51, 21)],
}
B01001_VARS = ("001", "004", "005", "028", "029")
# B19013 as data.census.gov writes it: top-coded "250,000+", "***" and "-" / "**" annotations.
B19013 = {
    "011": ("78250", "9120"), "012": ("61400", "8800"), "013": ("95100", "12050"),
    "014": ("42300", "7600"), "015": ("250,000+", "***"), "016": ("88800", "10400"),
    "021": ("38900", "6900"), "022": ("-", "**"), "023": ("-", "**"),
    "024": ("55600", "9900"), "025": ("102500", "15300"), "026": ("71200", "11800"),
}
WATER_M2 = {"015": 40000}  # a pond in block group 0001.01-5


def cells() -> list[tuple[str, str, int, int]]:
    """(tract, block group, column, row) of the 4 x 3 grid; tract 000101 is the west half."""
    out = []
    for t, tract in enumerate(TRACTS):
        for row in range(3):
            for c in range(2):
                out.append((tract, str(2 * row + c + 1), 2 * t + c, row))
    return out


def geoid(tract: str, bg: str) -> str:
    return STATE + COUNTY + tract + bg


def key(tract: str, bg: str) -> str:
    return tract[-2:] + bg


def name(tract: str, bg: str) -> str:
    t = int(tract)
    return f"Block Group {bg}; Census Tract {t // 100}.{t % 100:02d}; Sacramento County; California"


def box(c: int, r: int) -> shapely.Polygon:
    return shapely.box(LON0 + c * DX, LAT0 + r * DY, LON0 + (c + 1) * DX, LAT0 + (r + 1) * DY)


def write_tiger() -> None:
    laea = pyproj.CRS.from_proj4(
        f"+proj=laea +lat_0={LAT0 + 0.012} +lon_0={LON0 + 0.02} +ellps=GRS80"
    )
    rows = []
    for tract, bg, c, r in cells():
        poly = box(c, r)
        area = gpd.GeoSeries([poly], crs=4269).to_crs(laea).area.iloc[0]
        water = WATER_M2.get(key(tract, bg), 0)
        pt = poly.centroid
        rows.append(
            {
                "STATEFP20": STATE, "COUNTYFP20": COUNTY, "TRACTCE20": tract, "BLKGRPCE20": bg,
                "GEOID20": geoid(tract, bg), "NAMELSAD20": f"Block Group {bg}", "MTFCC20": "G5030",
                "FUNCSTAT20": "S", "ALAND20": int(round(area - water)), "AWATER20": water,
                "INTPTLAT20": f"{pt.y:+.7f}", "INTPTLON20": f"{pt.x:+.7f}", "geometry": poly,
            }
        )
    frame = gpd.GeoDataFrame(rows, crs="EPSG:4269")
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "tl_2020_06_bg_sample.shp"
        frame.to_file(shp, engine="pyogrio")
        dbf = shp.with_suffix(".dbf")
        data = bytearray(dbf.read_bytes())
        data[1:4] = bytes([120, 1, 1])  # the DBF's "last updated" date: fixed, so reruns match
        dbf.write_bytes(bytes(data))
        with zipfile.ZipFile(HERE / "tl_2020_06_bg_sample.zip", "w") as z:
            for f in sorted(Path(tmp).iterdir()):
                info = zipfile.ZipInfo(f.name, date_time=(2020, 1, 1, 0, 0, 0))
                z.writestr(info, f.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)


def write_c17002() -> None:
    header = ["GEO_ID", "NAME"]
    labels = ["Geography", "Geographic Area Name"]
    for i, label in enumerate(C17002_LABELS, start=1):
        header += [f"C17002_{i:03d}E", f"C17002_{i:03d}M"]
        labels += [f"Estimate!!{label}", f"Margin of Error!!{label}"]
    buf = io.StringIO()
    # data.census.gov quotes every field and ends every line with a comma (an empty last column).
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=",\n")
    w.writerow(header)
    w.writerow(labels)
    for tract, bg, _, _ in cells():
        row = [f"1500000US{geoid(tract, bg)}", name(tract, bg)]
        spec = C17002[key(tract, bg)]
        if spec is None:
            row += ["-", "**"] * 8
        else:
            est, moe, total_moe = spec
            row += [str(sum(est)), str(total_moe)]
            for e, m in zip(est, moe, strict=True):
                row += [str(e), str(m)]
        w.writerow(row)
    (HERE / "ACSDT5Y2022.C17002-Data_sample.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_b01001() -> None:
    header = ["NAME"]
    for v in B01001_VARS:
        header += [f"B01001_{v}E", f"B01001_{v}M"]
    header += ["state", "county", "tract", "block group"]
    rows = [header]
    for tract, bg, _, _ in cells():
        row = [name(tract, bg)]
        for e, m in B01001[key(tract, bg)]:
            row += [str(e), str(m)]
        rows.append(row + [STATE, COUNTY, tract, bg])
    # The API writes one row per line.
    text = "[" + ",\n".join(json.dumps(r) for r in rows) + "]\n"
    (HERE / "acs2022_B01001_api_sample.json").write_text(text, encoding="utf-8")


def write_b19013() -> None:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=",\n")
    w.writerow(["GEO_ID", "NAME", "B19013_001E", "B19013_001M"])
    w.writerow(
        [
            "Geography", "Geographic Area Name",
            "Estimate!!Median household income in the past 12 months (in 2022 inflation-adjusted "
            "dollars)",
            "Margin of Error!!Median household income in the past 12 months (in 2022 "
            "inflation-adjusted dollars)",
        ]
    )
    for tract, bg, _, _ in cells():
        e, m = B19013[key(tract, bg)]
        w.writerow([f"1500000US{geoid(tract, bg)}", name(tract, bg), e, m])
    (HERE / "ACSDT5Y2022.B19013-Data_sample.csv").write_text(buf.getvalue(), encoding="utf-8")


def write_boundary() -> None:
    # Whole columns 0-2; the west half of column 3 in rows 0-1; nothing of the top-right cell.
    e = 0.002
    ring = [
        (LON0 - e, LAT0 - e), (LON0 + 3.5 * DX, LAT0 - e), (LON0 + 3.5 * DX, LAT0 + 2 * DY),
        (LON0 + 3 * DX, LAT0 + 2 * DY), (LON0 + 3 * DX, LAT0 + 3 * DY + e),
        (LON0 - e, LAT0 + 3 * DY + e), (LON0 - e, LAT0 - e),
    ]
    frame = gpd.GeoDataFrame(
        {"GEOID": ["0699999"], "NAME": ["Sample Unified School District (made up)"]},
        geometry=[shapely.Polygon(ring)],
        crs="EPSG:4326",
    )
    path = HERE / "district_boundary_sample.geojson"
    path.unlink(missing_ok=True)
    frame.to_file(path, driver="GeoJSON")


SCHOOLS = [
    # NCESSCH, LEAID, NAME, column, row (the school stands at the cell's centre)
    ("069999900011", "0699999", "Alder Elementary", 0, 0),
    ("069999900012", "0699999", "Birch Elementary", 2, 1),
    ("069999900013", "0699999", "Cedar Elementary", 1, 2),
    ("069999900090", "0699999", "Sample High", 1, 1),
    ("069999800021", "0699998", "Neighbor District Elementary", 3, 2),
]
CAPACITY = {"069999900011": 450, "069999900012": 450, "069999900013": 450}


def write_nces() -> None:
    header = [
        "NCESSCH", "LEAID", "NAME", "OPSTFIPS", "STREET", "CITY", "STATE", "ZIP", "STFIP",
        "CNTY", "NMCNTY", "LOCALE", "LAT", "LON", "CBSA", "NMCBSA", "CSA", "NMCSA", "NECTA",
        "NMNECTA", "CD", "SLDL", "SLDU", "SCHOOLYEAR",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for i, (sch, lea, nm, c, r) in enumerate(SCHOOLS):
        pt = box(c, r).centroid
        w.writerow(
            [
                sch, lea, nm, "06", f"{100 + i} Sample St", "Sacramento", "CA", "95820", "06",
                "06067", "Sacramento County", "21", f"{pt.y:.6f}", f"{pt.x:.6f}", "40900",
                "Sacramento-Roseville-Folsom, CA", "472", "Sacramento-Roseville, CA", "N", "N",
                "0607", "006", "008", "2022-2023",
            ]
        )
    (HERE / "EDGE_GEOCODE_PUBLICSCH_2223_sample.csv").write_text(buf.getvalue(), encoding="utf-8")
    lines = ["NCESSCH,capacity"] + [f"{k},{v}" for k, v in CAPACITY.items()]
    (HERE / "school_capacity_sample.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_students() -> None:
    rng = np.random.default_rng(20260101)
    n = 400
    lon = LON0 + rng.uniform(0, 4 * DX, n)
    lat = LAT0 + rng.uniform(0, 3 * DY, n)
    low = (rng.uniform(size=n) < 0.3).astype(int)
    # Five students who live east of the district: reported, not counted.
    lon[-5:] = LON0 + 4 * DX + rng.uniform(0.001, 0.01, 5)
    lines = ["student,lon,lat,low_income"]
    rows = enumerate(zip(lon, lat, low, strict=True))
    lines += [f"S{i:04d},{x:.6f},{y:.6f},{v}" for i, (x, y, v) in rows]
    (HERE / "students_points_sample.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_tiger()
    write_c17002()
    write_b01001()
    write_b19013()
    write_boundary()
    write_nces()
    write_students()
