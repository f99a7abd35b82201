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


# ------------------------------------------------------------------ SES index tables (issue 14)
# Per block group, the figures the SES index reads; every table is written in both formats
# (data.census.gov CSV and Census API JSON) so either set gives the same index. 0001.02-2 has
# nobody in any universe; 0001.02-3 has everything but its median family income ("-").
# B19113 median family income (estimate, margin) as data.census.gov writes it.
B19113 = {
    "011": ("82000", "9800"), "012": ("64000", "8900"), "013": ("99000", "12500"),
    "014": ("45000", "7700"), "015": ("250,000+", "***"), "016": ("91000", "11200"),
    "021": ("40000", "30000"), "022": ("-", "**"), "023": ("-", "**"),
    "024": ("58000", "9100"), "025": ("110000", "16800"), "026": ("76000", "10900"),
}
# B15003 adults 25+ by attainment level: no diploma (written as _016), diploma (_017), some
# college (_020), bachelor's (_022), graduate (_023); the other levels are 0 (margin 13).
B15003 = {
    "011": (100, 300, 300, 200, 100), "012": (200, 350, 250, 150, 50),
    "013": (50, 200, 250, 300, 200), "014": (300, 350, 200, 100, 50),
    "015": (20, 100, 180, 350, 350), "016": (80, 250, 300, 250, 120),
    "021": (400, 300, 200, 70, 30), "022": (0, 0, 0, 0, 0), "023": (150, 300, 300, 180, 70),
    "024": (180, 320, 280, 160, 60), "025": (40, 150, 250, 330, 230),
    "026": (100, 280, 300, 220, 100),
}
B15003_AT = (16, 17, 20, 22, 23)
# B11003 families with own children under 18: married couple, father only, mother only; plus
# families without children (married, father-headed, mother-headed).
B11003 = {
    "011": (200, 10, 40, 150, 20, 30), "012": (120, 20, 100, 110, 25, 45),
    "013": (250, 5, 20, 180, 10, 15), "014": (100, 30, 120, 90, 30, 60),
    "015": (180, 4, 16, 160, 6, 14), "016": (210, 15, 45, 140, 15, 25),
    "021": (90, 40, 150, 80, 40, 70), "022": (0, 0, 0, 0, 0, 0), "023": (160, 20, 60, 120, 20, 30),
    "024": (150, 20, 80, 120, 20, 40), "025": (230, 8, 22, 170, 10, 20),
    "026": (190, 12, 48, 150, 15, 25),
}
# B25003 occupied housing units and owner-occupied ones (renters are the rest); the same
# households speak English only (C16002 _002) or Spanish (_003, of which a third limited, _004).
B25003 = {
    "011": (600, 420), "012": (550, 220), "013": (500, 400), "014": (700, 210),
    "015": (400, 360), "016": (450, 270), "021": (800, 160), "022": (0, 0), "023": (500, 250),
    "024": (600, 270), "025": (450, 387), "026": (500, 325),
}
C16002_ENGLISH = {
    "011": 480, "012": 330, "013": 450, "014": 350, "015": 340, "016": 315, "021": 320,
    "022": 0, "023": 325, "024": 330, "025": 396, "026": 375,
}


# B03002 residents by Hispanic origin and race: white, Black, American Indian, Asian, Pacific
# Islander, some other race, two or more (all not Hispanic), and Hispanic or Latino.
B03002 = {
    "011": (900, 120, 10, 240, 5, 10, 65, 500), "012": (400, 300, 15, 150, 5, 20, 80, 650),
    "013": (800, 60, 5, 350, 0, 5, 50, 130), "014": (300, 450, 20, 100, 10, 30, 70, 1000),
    "015": (700, 40, 0, 250, 0, 0, 40, 120), "016": (600, 150, 10, 200, 5, 10, 55, 180),
    "021": (250, 600, 25, 80, 15, 40, 90, 1000), "022": (0, 0, 0, 0, 0, 0, 0, 0),
    "023": (500, 200, 10, 150, 5, 15, 70, 350), "024": (450, 250, 15, 200, 5, 15, 65, 500),
    "025": (850, 50, 5, 300, 0, 5, 40, 200), "026": (700, 100, 10, 250, 5, 10, 60, 215),
}


def _moe_of(e: int) -> int:
    """A plausible margin: 13 for a zero count (the ACS's), else about 15 % plus 10."""
    return 13 if e == 0 else int(round(0.15 * e + 10))


def ses_tables() -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """table -> block-group key -> [(variable, estimate, margin)], every cell as text."""
    out: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    out["B19113"] = {k: [("001", e, m)] for k, (e, m) in B19113.items()}
    edu = {}
    for k, levels in B15003.items():
        counts = dict.fromkeys(range(2, 26), 0)
        for at, c in zip(B15003_AT, levels, strict=True):
            counts[at] = c
        cells = [("001", str(sum(levels)), str(_moe_of(sum(levels))))]
        cells += [(f"{v:03d}", str(c), str(_moe_of(c))) for v, c in counts.items()]
        edu[k] = cells
    out["B15003"] = edu
    fam = {}
    for k, (mk, fk, mo, m0, f0, o0) in B11003.items():
        v = {3: mk, 6: mk, 7: m0, 10: fk, 13: fk, 14: f0, 16: mo, 19: mo, 20: o0}
        v[2], v[9], v[15] = mk + m0, fk + f0, mo + o0
        v[8] = v[9] + v[15]
        v[1] = v[2] + v[8]
        cells = [(f"{i:03d}", str(v.get(i, 0)), str(_moe_of(v.get(i, 0)))) for i in range(1, 21)]
        fam[k] = cells
    out["B11003"] = fam
    out["B25003"] = {
        k: [("001", str(t), str(_moe_of(t))), ("002", str(o), str(_moe_of(o))),
            ("003", str(t - o), str(_moe_of(t - o)))]
        for k, (t, o) in B25003.items()
    }
    lang = {}
    for k, (t, _) in B25003.items():
        eng = C16002_ENGLISH[k]
        spanish = t - eng
        limited = spanish // 3
        v = {1: t, 2: eng, 3: spanish, 4: limited, 5: spanish - limited}
        lang[k] = [(f"{i:03d}", str(v.get(i, 0)), str(_moe_of(v.get(i, 0)))) for i in range(1, 15)]
    out["C16002"] = lang
    # The alternatives: own children by family type (children: 2 per married couple with
    # children, 1.5 per single parent, rounded down), and people 5+ speaking only English (all
    # 5-17 and 65+ speak English only; adults 18-64 as the households: 2 per household).
    kids = {}
    for k, (mk, fk, mo, *_) in B11003.items():
        married, father, mother = 2 * mk, (3 * fk) // 2, (3 * mo) // 2
        v = {1: married + father + mother, 2: married, 8: father + mother, 9: father, 15: mother}
        kids[k] = [(f"{i:03d}", str(x), str(_moe_of(x))) for i, x in v.items()]
    out["B09002"] = kids
    people = {}
    for k, (t, _) in B25003.items():
        eng = C16002_ENGLISH[k]
        young, old = t // 2, t // 4
        v = {2: young, 3: young, 24: 2 * t, 25: 2 * eng, 46: old, 47: old}
        v[1] = young + 2 * t + old
        people[k] = [(f"{i:03d}", str(x), str(_moe_of(x))) for i, x in sorted(v.items())]
    out["B16004"] = people
    race = {}
    for k, (w, b, ai, a, pi, o, two, h) in B03002.items():
        v = {3: w, 4: b, 5: ai, 6: a, 7: pi, 8: o, 9: two, 12: h}
        v[2] = w + b + ai + a + pi + o + two
        v[1] = v[2] + h
        race[k] = [(f"{i:03d}", str(x), str(_moe_of(x))) for i, x in sorted(v.items())]
    out["B03002"] = race
    return out


def write_ses_tables() -> None:
    """Each index table in both formats; the alternatives B09002 and B16004 as API JSON only."""
    for table_id, rows in ses_tables().items():
        variables = [v for v, _, _ in next(iter(rows.values()))]
        if table_id not in ("B09002", "B16004"):
            buf = io.StringIO()
            w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator=",\n")
            header, labels = ["GEO_ID", "NAME"], ["Geography", "Geographic Area Name"]
            for v in variables:
                header += [f"{table_id}_{v}E", f"{table_id}_{v}M"]
                labels += [f"Estimate!!Total:!!{table_id} {v}", f"Margin of Error!!Total:!!"
                           f"{table_id} {v}"]
            w.writerow(header)
            w.writerow(labels)
            for tract, bg, _, _ in cells():
                row = [f"1500000US{geoid(tract, bg)}", name(tract, bg)]
                for _, e, m in rows[key(tract, bg)]:
                    row += [e, m]
                w.writerow(row)
            path = HERE / f"ACSDT5Y2022.{table_id}-Data_sample.csv"
            path.write_text(buf.getvalue(), encoding="utf-8")
        header = ["NAME"]
        for v in variables:
            header += [f"{table_id}_{v}E", f"{table_id}_{v}M"]
        header += ["state", "county", "tract", "block group"]
        out = [header]
        for tract, bg, _, _ in cells():
            row = [name(tract, bg)]
            for _, e, m in rows[key(tract, bg)]:
                # The API's numbers: no thousands separators, -666666666 for "-", -555555555
                # for a controlled margin ("***" of a top-coded median is -222222222 there).
                e_api = {"-": "-666666666", "250,000+": "250001"}.get(e, e)
                m_api = {"**": "-222222222", "***": "-222222222"}.get(m, m)
                row += [e_api, m_api]
            out.append(row + [STATE, COUNTY, tract, bg])
        text = "[" + ",\n".join(json.dumps(r) for r in out) + "]\n"
        (HERE / f"acs2022_{table_id}_api_sample.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_tiger()
    write_c17002()
    write_b01001()
    write_b19013()
    write_boundary()
    write_nces()
    write_students()
    write_ses_tables()
