"""The benchmark's real districts load as documented, and the report shows each bound source."""

from benchmarks.real import REAL_DISTRICTS, real_frames
from benchmarks.run import render
from zoneopt import District


def test_albuquerque_tracts_have_an_island_without_a_school():
    units, schools = real_frames("albuquerque")
    district = District.from_frames(units, schools)
    assert district.n_units == 195 and district.n_schools == REAL_DISTRICTS["albuquerque"][1]
    assert district.islands.sum() == 1
    assert not district.islands[district.home_unit].any()


def test_georgia_counties_carry_their_real_population():
    units, _ = real_frames("georgia")
    assert len(units) == 159
    # 9% of Georgia's 1990 population (6,478,216) are the students.
    assert abs(units["students"].sum() - 0.09 * 6_478_216) < 200
    assert (units["low_income"] <= units["students"]).all()


def test_report_lists_bounds_by_source_and_each_source_alone():
    rec = {
        "district": "synthetic 9x2", "n_units": 9, "n_schools": 2, "students": 900, "extra_km": 3,
        "d_status_quo": 0.3, "methods": {
            "zoneopt": {"runs": {"60.0": {}}, "d_full": 0.1, "d_early": 0.12, "bound": 0.08,
                        "gap": 0.2, "first_plan_s": 0.5, "first_source": "repair", "status": "feasible",
                        "bounds": {"root_lp": 0.05, "cut_loop": 0.08}},
            "bounds": {"runs": {"60.0": {}}, "sources": {
                "root_lp": {"bound": 0.05, "seconds": 0.1},
                "lagrangian": {"bound": 0.06, "seconds": 2.0, "iterations": 10},
                "root_cuts": {"bound": 0.07, "seconds": 0.4, "rounds": 6, "cuts": 40},
                "lp_cuts": {"bound": 0.075, "seconds": 1.5, "rounds": 12},
                "cut_loop": {"bound": 0.08, "seconds": 9.0, "rounds": 10}}},
        }}
    mach = {"nproc": 2, "cpu": "x", "ram_gb": 1.0, "python": "3", "pulp": "3", "ortools": "9",
            "load_avg": (1.0, 1.0, 1.0)}
    page = render([rec], 60.0, "python -m benchmarks.run", "today", mach)
    assert "| synthetic 9x2 | repair | 0.5 | 0.100 | 0.080 | 0.200 | cut_loop 0.080, root_lp 0.050 |" in page
    assert ("| synthetic 9x2 | 0.050 | 0.1 | 0.060 | 2.0 (10) | 0.070 | 0.4 (6) | 0.075 | 1.5 (12) "
            "| 0.080 | 9.0 (10) |" in page)


def test_county_is_the_demo_county_without_a_distance_limit():
    units, schools = real_frames("county")
    district = District.from_frames(units, schools)
    label, n_schools, extra_km = REAL_DISTRICTS["county"]
    assert district.n_units == 279 and district.n_schools == n_schools == 24
    assert extra_km == float("inf") and "no distance limit" in label
