"""The composite SES index and tiers on the shipped samples (values computed by hand) and on tables
it has never seen (against an independent recomputation of the documented method)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zoneopt.census import CensusWarning, build_units, read_acs, ses_tiers
from zoneopt.census.ses import equal_student_tiers, midrank_percentile, parse_weights, ses_measures
from zoneopt.cli import main
from zoneopt.errors import ZoneoptInputError
from zoneopt.io import read_units

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
INDEX_TABLES = ("B19113", "B15003", "B11003", "B25003", "C16002")


def _csv(t):
    return SAMPLES / f"ACSDT5Y2022.{t}-Data_sample.csv"


def _json(t):
    return SAMPLES / f"acs2022_{t}_api_sample.json"


@pytest.fixture(scope="module")
def sample_units():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_units(
            SAMPLES / "tl_2020_06_bg_sample.zip",
            [SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv",
             SAMPLES / "acs2022_B01001_api_sample.json"],
            boundary=SAMPLES / "district_boundary_sample.geojson",
            students_total=1200,
        )


# By hand from data/samples/make_samples.py, over the 11 block groups inside the boundary.
# Percentile of rank r among n units with the measure: 100 (r - 1/2) / n.
# income (n = 9: 0001.02-2 and -3 are "-"): 021 40000 r1 ... 015 "250,000+" r9.
# education score, e.g. 0001.01-1: (0.2 x 100 + 0.4 x 300 + 0.6 x 300 + 0.8 x 200 + 1.0 x 100) /
#   1000 = 0.58, rank 6 of 10 -> 55.
# single parents, e.g. 0001.01-1: (10 + 40) / (200 + 10 + 40) = 0.20, 7th lowest SES -> 65.
HAND = {  # unit: (income, education, single_parent, owner, english) percentiles, score, tier
    "060670001021": (100 / 18, 5, 5, 5, 5, (100 / 18 + 20) / 5, 1),
    "060670001014": (300 / 18, 15, 15, 15, 15, (300 / 18 + 60) / 5, 2),
    "060670001012": (700 / 18, 25, 25, 25, 35, (700 / 18 + 110) / 5, 2),
    "060670001024": (500 / 18, 35, 35, 35, 25, (500 / 18 + 130) / 5, 2),
    "060670001023": (None, 45, 45, 45, 45, 45.0, 3),
    "060670001016": (1100 / 18, 65, 55, 55, 55, (1100 / 18 + 230) / 5, 3),
    "060670001011": (50, 55, 65, 65, 65, 60.0, 4),
    "060670001013": (1300 / 18, 75, 95, 75, 95, (1300 / 18 + 340) / 5, 4),
    "060670001025": (1500 / 18, 85, 75, 85, 85, (1500 / 18 + 330) / 5, 4),
    "060670001015": (1700 / 18, 95, 85, 95, 75, (1700 / 18 + 350) / 5, 4),
}
# Tiers: students (from build_units) in score order 245, 195, 116, 78, 115, 82, 142, 93, 104, 30 of
# 1200; cumulative midpoints 122.5, 342.5, 498, 595, 691.5, 790, 902, 1019.5, 1118, 1185; a
# quarter is 300, so floor(4 c / 1200) + 1 = 1, 2, 2, 2, 3, 3, 4, 4, 4, 4.


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_sample_index_matches_the_hand_computation_in_both_formats(sample_units, fmt):
    tables = [(_csv if fmt == "csv" else _json)(t) for t in INDEX_TABLES]
    out = ses_tiers(sample_units, tables, 4).set_index("unit_id")
    names = ["income", "education", "single_parent", "owner", "english"]
    for uid, (*pcts, score, tier) in HAND.items():
        for name, want in zip(names, pcts, strict=True):
            got = out.loc[uid, f"ses_{name}_pct"]
            assert (np.isnan(got) if want is None else got == pytest.approx(want)), (uid, name)
        assert out.loc[uid, "ses_score"] == pytest.approx(score)
        assert out.loc[uid, "ses_tier"] == tier
    assert out.loc["060670001011", "ses_education"] == pytest.approx(0.58)
    assert out.loc["060670001011", "ses_single_parent"] == pytest.approx(0.2)
    assert out.loc["060670001023", "ses_measures"] == 4  # its income is "-"
    # Nobody lives in 0001.02-2: no figures, no students, no tier.
    assert pd.isna(out.loc["060670001022", "ses_tier"])
    # Income of 0001.02-1: MOE 30000 on 40000 is a CV of 46 %: unreliable.
    assert out.loc["060670001021", "ses_income_reliability"] == "low"
    assert out.loc["060670001021", "flag_ses_unreliable"]
    assert not out.loc["060670001011", "flag_ses_unreliable"]


def test_alternative_tables_give_the_shares_they_define(sample_units):
    out = ses_tiers(sample_units, [_json("B19113"), _csv("B15003"), _json("B09002"),
                                   _csv("B25003"), _json("B16004")], 4).set_index("unit_id")
    # B09002 for 0001.01-1: children 2 x 200 married, 15 with the father, 60 with the mother:
    # 75 / 475. B16004: (300 + 2 x 480 + 150) / (300 + 1200 + 150) people 5+ speak only English.
    assert out.loc["060670001011", "ses_single_parent"] == pytest.approx(75 / 475)
    assert out.loc["060670001011", "ses_english"] == pytest.approx(1410 / 1650)
    assert out.loc["060670001011", "ses_single_parent_table"] == "B09002"
    assert out.loc["060670001011", "ses_english_table"] == "B16004"


def test_measure_margins_follow_the_census_rules():
    m = ses_measures(read_acs([_csv("B25003")] + [_csv(t) for t in INDEX_TABLES[:3]]
                              + [_csv("C16002")])).loc["060670001011"]
    # owner 420 / 600, margins 73 and 100: sqrt(73^2 - 0.7^2 x 100^2) / 600.
    assert m["ses_owner_moe"] == pytest.approx(np.sqrt(73**2 - 0.49 * 100**2) / 600)
    assert m["ses_income_moe"] == 9800


def test_weights_change_the_score_and_are_validated(sample_units):
    tables = [_csv(t) for t in INDEX_TABLES]
    out = ses_tiers(sample_units, tables, 4, weights="income=3,english=0").set_index("unit_id")
    # 0001.01-1: (3 x 50 + 55 + 65 + 65) / 6.
    assert out.loc["060670001011", "ses_score"] == pytest.approx((150 + 55 + 65 + 65) / 6)
    with pytest.raises(ZoneoptInputError, match="unknown SES measure 'wealth'"):
        parse_weights("wealth=2")
    with pytest.raises(ZoneoptInputError, match=">= 0"):
        parse_weights({"income": -1})


def test_missing_table_is_named(sample_units):
    with pytest.raises(ZoneoptInputError, match="B25003"):
        ses_tiers(sample_units, [_csv(t) for t in INDEX_TABLES if t != "B25003"], 4)
    with pytest.raises(ZoneoptInputError, match="integer >= 2"):
        ses_tiers(sample_units, [_csv(t) for t in INDEX_TABLES], 1)


def test_percentiles_and_tiers_by_hand():
    assert midrank_percentile(np.array([3.0, 1.0, 2.0, 2.0])).tolist() == [87.5, 12.5, 50.0, 50.0]
    # Ties share a tier: units of equal score 2 stay together (their midpoint is 30 of 40).
    tiers = equal_student_tiers(np.array([1.0, 2.0, 2.0, 3.0]), np.array([10, 10, 10, 10]), 2)
    assert tiers.tolist() == [1, 2, 2, 2]


def test_units_command_writes_tiers_and_prints_the_method(tmp_path, capsys):
    out = tmp_path / "units.gpkg"
    args = ["units", "--block-groups", str(SAMPLES / "tl_2020_06_bg_sample.zip"),
            "--acs", str(SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv"),
            "--acs", str(SAMPLES / "acs2022_B01001_api_sample.json"),
            *[a for t in INDEX_TABLES for a in ("--acs", str(_json(t)))],
            "--boundary", str(SAMPLES / "district_boundary_sample.geojson"),
            "--students-total", "1200", "--ses-tiers", "4", "--out", str(out)]
    with pytest.warns(CensusWarning, match="imputed"):
        assert main(args) == 0
    printed = capsys.readouterr().out
    assert "mid-rank percentile" in printed and "equal numbers of students" in printed
    units = read_units(out).set_index("unit_id")
    assert {uid: int(units.loc[uid, "ses_tier"]) for uid in HAND} == {
        uid: v[-1] for uid, v in HAND.items()}
    assert "ses_income_pct" in units.columns


# ---------------------------------------------------------------- tables it has never seen


def _random_tables(tmp_path, rng, geoids):
    """Random block-group tables in the API's format, and the raw values they encode."""
    raw = {}
    files = []

    def write(table, columns):
        header = ["NAME"] + [f"{table}_{v}{k}" for v in columns for k in "EM"]
        header += ["state", "county", "tract", "block group"]
        rows = [header]
        for g in geoids:
            cells = [f"BG {g}"]
            for v in columns:
                e = raw[(table, v)][g]
                cells += [str(e), str(int(rng.integers(5, 60)))]
            rows.append(cells + [g[:2], g[2:5], g[5:11], g[11]])
        path = tmp_path / f"{table}.json"
        path.write_text(json.dumps(rows))
        files.append(path)

    def put(table, var, values):
        raw[(table, var)] = dict(zip(geoids, values, strict=True))

    n = len(geoids)
    put("B19113", "001", rng.integers(20_000, 200_000, n))
    edu = rng.integers(0, 300, (n, 24))
    put("B15003", "001", edu.sum(axis=1))
    for c in range(24):
        put("B15003", f"{c + 2:03d}", edu[:, c])
    fam = rng.integers(1, 200, (n, 3))
    for c, v in enumerate(("003", "010", "016")):
        put("B11003", v, fam[:, c])
    occ = rng.integers(100, 900, n)
    put("B25003", "001", occ)
    put("B25003", "002", (occ * rng.uniform(0.05, 0.95, n)).astype(int))
    hh = rng.integers(100, 900, n)
    put("C16002", "001", hh)
    put("C16002", "002", (hh * rng.uniform(0.2, 1.0, n)).astype(int))
    write("B19113", ["001"])
    write("B15003", [f"{c:03d}" for c in range(1, 26)])
    write("B11003", ["003", "010", "016"])
    write("B25003", ["001", "002"])
    write("C16002", ["001", "002"])
    return files, raw


def _independent_tiers(raw, geoids, students, k):
    """The README's method again, with pandas' rank (average ties) instead of zoneopt's code."""
    g = pd.Index(geoids)
    v = lambda t, x: pd.Series(raw[(t, x)]).reindex(g).astype(float)  # noqa: E731
    edu_w = {**{i: 0.2 for i in range(2, 17)}, 17: 0.4, 18: 0.4, 19: 0.6, 20: 0.6, 21: 0.6,
             22: 0.8, 23: 1.0, 24: 1.0, 25: 1.0}
    measures = pd.DataFrame({
        "income": v("B19113", "001"),
        "education": sum(w * v("B15003", f"{i:03d}") for i, w in edu_w.items())
        / v("B15003", "001"),
        "single_parent": -(v("B11003", "010") + v("B11003", "016"))
        / (v("B11003", "003") + v("B11003", "010") + v("B11003", "016")),
        "owner": v("B25003", "002") / v("B25003", "001"),
        "english": v("C16002", "002") / v("C16002", "001"),
    })
    pct = (measures.rank(method="average") - 0.5) / len(measures) * 100
    score = pct.mean(axis=1)
    # Units of equal score are one group with one midpoint (the README says they share a tier).
    s = pd.Series(students, index=g).astype(float)
    per_score = s.groupby(score.round(9)).sum().sort_index()
    mid = per_score.cumsum() - per_score / 2
    tier = (np.floor(k * mid / s.sum()) + 1).clip(upper=k).astype(int)
    return tier.reindex(score.round(9).to_numpy()).set_axis(g), score


def test_cli_tiers_on_unseen_tables_match_an_independent_recomputation(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    rng = np.random.default_rng(7)
    geoids = [f"17031{t:06d}{b}" for t in range(100, 106) for b in range(1, 5)]
    files, raw = _random_tables(tmp_path, rng, geoids)
    students = rng.integers(0, 150, len(geoids))
    units = gpd.GeoDataFrame(
        {"unit_id": geoids, "students": students, "low_income": students // 3},
        geometry=[box(i, 0, i + 1, 1) for i in range(len(geoids))], crs="EPSG:32616")
    out = ses_tiers(units, files, 4)
    want, score = _independent_tiers(raw, geoids, students, 4)
    assert np.allclose(out["ses_score"].to_numpy(dtype=float), score.to_numpy())
    assert out["ses_tier"].astype(int).tolist() == want.tolist()
    # Equal students per tier, as nearly as whole units allow: no tier is off by more than the
    # largest unit.
    per_tier = pd.Series(students).groupby(want.to_numpy()).sum()
    assert (per_tier - students.sum() / 4).abs().max() <= students.max()


def test_units_with_tiers_then_optimize_tiers_and_check_the_figures(tmp_path):
    from zoneopt.census import read_nces_schools, write_schools_csv
    from zoneopt.check import check_plan
    from zoneopt.district import District
    from zoneopt.scenario import load_scenario

    units_path = tmp_path / "units.gpkg"
    args = ["units", "--block-groups", str(SAMPLES / "tl_2020_06_bg_sample.zip"),
            "--acs", str(SAMPLES / "ACSDT5Y2022.C17002-Data_sample.csv"),
            "--acs", str(SAMPLES / "acs2022_B01001_api_sample.json"),
            *[a for t in INDEX_TABLES for a in ("--acs", str(_csv(t)))],
            "--boundary", str(SAMPLES / "district_boundary_sample.geojson"),
            "--students-total", "1200", "--ses-tiers", "3", "--out", str(units_path)]
    with pytest.warns(CensusWarning, match="imputed"):
        assert main(args) == 0
        schools = read_nces_schools(SAMPLES / "EDGE_GEOCODE_PUBLICSCH_2223_sample.csv",
                                    leaid="0699999",
                                    capacities=SAMPLES / "school_capacity_sample.csv")
    schools_path = write_schools_csv(schools, tmp_path / "schools.csv")
    scenario_path = tmp_path / "s.toml"
    scenario_path.write_text('[objective]\nbalance = "tiers"\n[solver]\nmip_gap = 0.0\n'
                             'contiguity_model = "exact"\n')
    out = tmp_path / "plan"
    assert main(["optimize", "--units", str(units_path), "--schools", str(schools_path),
                 "--scenario", str(scenario_path), "--out", str(out), "--time-limit", "30",
                 "--no-maps"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    # The tier figure again, from the files alone: students per school and tier.
    units = read_units(units_path)
    plan = pd.read_csv(out / "assignment.csv", dtype=str).merge(
        units[["unit_id", "students", "ses_tier"]], on="unit_id")
    plan = plan[plan["students"] > 0]
    table = plan.pivot_table(index="school_id", columns="ses_tier", values="students",
                             aggfunc="sum", fill_value=0)
    p = table.sum() / table.to_numpy().sum()
    dev = (table - np.outer(table.sum(axis=1), p)).abs().to_numpy().sum()
    d_t = dev / (2 * table.to_numpy().sum() * float((p * (1 - p)).sum()))
    assert summary["tier_dissimilarity_after"] == pytest.approx(d_t)
    assert summary["objective"] == pytest.approx(d_t)
    district = District.from_files(units_path, schools_path)
    assignment = pd.read_csv(out / "assignment.csv", dtype=str)
    check_plan(district, load_scenario(scenario_path),
               dict(zip(assignment["unit_id"], assignment["school_id"], strict=True)),
               summary=summary).raise_if_failed()


def _four_units(income_moe_b):
    """Four units ranked A < B < C < D on every measure; only B's income has a margin."""
    ids = ["A", "B", "C", "D"]
    cols: dict[str, list[float]] = {}

    def put(var, values, moes=(0, 0, 0, 0)):
        cols[f"{var}E"], cols[f"{var}M"] = list(values), list(moes)

    put("B19113_001", [10_000, 20_000, 30_000, 40_000], (0, income_moe_b, 0, 0))
    put("B15003_001", [100] * 4)
    for v in range(2, 26):
        put(f"B15003_{v:03d}", [0] * 4)
    put("B15003_016", [70, 50, 30, 10])  # no diploma
    put("B15003_022", [30, 50, 70, 90])  # bachelor's
    put("B11003_003", [50, 60, 70, 80])
    put("B11003_010", [0] * 4)
    put("B11003_016", [50, 40, 30, 20])
    put("B25003_001", [100] * 4)
    put("B25003_002", [20, 40, 60, 80])
    put("C16002_001", [100] * 4)
    put("C16002_002", [50, 60, 70, 80])
    return pd.DataFrame(cols, index=pd.Index(ids, name="GEOID"))


def test_a_margin_that_reaches_the_next_tier_flags_the_unit():
    units = pd.DataFrame({"unit_id": ["A", "B", "C", "D"], "students": [10, 10, 10, 10]})
    only_income = {"education": 0, "single_parent": 0, "owner": 0, "english": 0}
    # Percentiles 12.5, 37.5, 62.5, 87.5; two tiers of 20 students: A, B | C, D, boundary 50.
    # B's income 20000 +/- 15000: were it 5000 it would rank first (12.5), were it 35000 third
    # (62.5): a margin of 25 points, so B's score 37.5 +/- 25 crosses 50; its CV 15000 / 1.645 /
    # 20000 = 46 % is low.
    out = ses_tiers(units, _four_units(15_000), 2, weights=only_income).set_index("unit_id")
    assert out["ses_tier"].tolist() == [1, 1, 2, 2]
    assert out.loc["B", "ses_score_moe"] == pytest.approx(25.0)
    assert out["flag_ses_tier_uncertain"].tolist() == [False, True, False, False]
    assert out["flag_ses_unreliable"].tolist() == [False, True, False, False]
    # A margin of 2000 passes no other unit: no margin in points, nothing uncertain.
    out = ses_tiers(units, _four_units(2_000), 2, weights=only_income)
    assert not out["flag_ses_tier_uncertain"].any()
    assert out["ses_score_moe"].tolist() == [0.0] * 4
    # With every measure weighed, B's margin is 25 / 5 = 5 points: 42.5 stays below 50.
    out = ses_tiers(units, _four_units(15_000), 2).set_index("unit_id")
    assert out.loc["B", "ses_score_moe"] == pytest.approx(5.0)
    assert not out.loc["B", "flag_ses_tier_uncertain"]


def test_the_districts_own_measure_joins_the_index(sample_units):
    # Chicago's sixth factor: a school-performance figure per area, higher = higher SES. Here it
    # ranks 0001.01-1 highest of the ten units that have it (percentile 95).
    perf = pd.Series({uid: (100 if uid == "060670001011" else 10 + i)
                      for i, uid in enumerate(HAND)})
    tables = [_csv(t) for t in INDEX_TABLES]
    out = ses_tiers(sample_units, tables, 4, extra={"performance": perf},
                    weights="performance=5").set_index("unit_id")
    assert out.loc["060670001011", "ses_performance_pct"] == pytest.approx(95)
    # (50 + 55 + 65 + 65 + 65 + 5 x 95) / 10.
    assert out.loc["060670001011", "ses_score"] == pytest.approx((300 + 475) / 10)
    assert "performance" in out.attrs["ses_method"]
    with pytest.raises(ZoneoptInputError, match="name of a census measure"):
        ses_tiers(sample_units, tables, 4, extra={"income": perf})
