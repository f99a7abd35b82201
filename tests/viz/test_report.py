"""zoneopt.viz.report without a browser: figures, plain-language scenario, safety, determinism."""

from __future__ import annotations

import html
import math
import re
from html.parser import HTMLParser

import pytest
from viz_plans import grid_district, make_plan

from zoneopt.viz import report

XSS_NAME = "<img src=x onerror=alert(1)>"


class _Cells(HTMLParser):
    """Collects the per-school table: {school_id: {column: (data-value, text)}}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, tuple[str, str]]] = {}
        self.names: dict[str, str] = {}
        self._school = None
        self._column = None
        self._in_name = False
        self._buf = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-school-id" in a:
            self._school = a["data-school-id"]
            self.rows[self._school] = {}
        elif tag == "td" and self._school and "data-column" in a:
            self._column = (a["data-column"], a["data-value"])
            self._buf = ""
        elif tag == "th" and self._school and a.get("class") == "name":
            self._in_name, self._buf = True, ""

    def handle_endtag(self, tag):
        if tag == "td" and self._column:
            col, raw = self._column
            self.rows[self._school][col] = (raw, self._buf)
            self._column = None
        elif tag == "th" and self._in_name:
            self.names[self._school] = self._buf
            self._in_name = False
        elif tag == "tr":
            self._school = None

    def handle_data(self, data):
        if self._column or self._in_name:
            self._buf += data


def _expected_text(column: str, value) -> str:
    if column.startswith(("enrollment", "students_", "capacity")):
        return f"{int(value):,}"
    if column.startswith("utilization"):
        return f"{100 * value:.0f}%"
    if column.startswith("low_income_share"):
        return f"{100 * value:.1f}%"
    if column.startswith("mean_distance"):
        return f"{value:.2f} km"
    raise AssertionError(column)


def check_report_figures(
    page: str, table, rel: float = 0.0, max_utilization: float = 1.0
) -> None:
    """Every figure of the per-school table equals schools.csv (raw and as displayed).

    ``rel`` allows for the last digits a CSV round trip may change; seats short are the
    students beyond capacity x ``max_utilization`` (the plan's scenario).
    """
    parser = _Cells()
    parser.feed(page)
    assert list(parser.rows) == [str(s) for s in table["school_id"]]
    for _, row in table.iterrows():
        cells = parser.rows[str(row["school_id"])]
        assert parser.names[str(row["school_id"])] == str(row["name"])
        # 13 columns, or 11 without the low-income shares (a capacity redraw)
        assert len(cells) in (11, 13)
        for column, (raw, text) in cells.items():
            if column.startswith("seats_short"):
                when = column.rsplit("_", 1)[1]
                limit = row["capacity"] * max_utilization
                value = max(0, math.ceil(row[f"enrollment_{when}"] - limit))
                assert (int(raw), text) == (value, f"{value:,}"), (row["school_id"], column)
                continue
            value = row[column]
            if isinstance(value, float) and math.isnan(value):
                assert raw == "" and text == "–"
                continue
            assert float(raw) == pytest.approx(float(value), rel=rel, abs=0), (
                row["school_id"],
                column,
            )
            if rel == 0:
                assert text == _expected_text(column, value), (row["school_id"], column)


def test_report_table_has_the_figures_of_schools_csv(big_plan):
    check_report_figures(report.report_html(big_plan), big_plan.schools_table,
                         max_utilization=big_plan.summary["scenario"]["constraints"]["max_utilization"])


def test_report_summary_states_the_district_figures(grid_plan):
    page = report.report_html(grid_plan)
    s = grid_plan.summary
    # the index from 0 to 1, never a percentage
    assert f"{s['dissimilarity_before']:.3f} → {s['dissimilarity_after']:.3f}" in page
    assert f"{100 * s['dissimilarity_before']:.1f}%" not in page
    assert f"{100 * s['max_share_gap_after']:.1f} points" in page
    assert f"{s['students_moved']:,} ({100 * s['moved_share']:.1f}%)" in page
    assert f"{s['mean_distance_km_after']:.2f} km" in page
    assert f"{100 * s['max_utilization_after']:.0f}%" in page
    table = grid_plan.schools_table
    k = int(table["utilization_before"].to_numpy().argmax())
    fullest = f"{100 * table['utilization_before'].iloc[k]:.0f}% ({table['name'].iloc[k]})"
    assert fullest in page  # today's fullest school, named
    assert "Optimal: proven within 0.40% of the best possible plan (target 1%)" in page
    assert "HiGHS" in page


def test_report_title_is_the_plans_or_a_default():
    units, schools, sq, proposed = grid_district()
    page = report.report_html(make_plan(units, schools, proposed, sq, title=""))
    assert "<title>Proposed attendance zones</title>" in page
    assert "<h1>Proposed attendance zones</h1>" in page
    page = report.report_html(make_plan(units, schools, proposed, sq, title="Board draft"))
    assert "<h1>Board draft</h1>" in page


def test_scenario_reads_in_plain_words_and_infinite_limits_read_no_limit():
    sentences = report.describe_scenario(
        {
            "objective": {"distance_weight": 0.0},
            "constraints": {
                "max_utilization": 1.05,
                "max_distance_km": float("inf"),
                "max_extra_distance_km": 1.5,
                "contiguity": False,
                "max_moved_share": 0.2,
                "low_income_band": 0.08,
            },
            "travel": {"matrix": "roads.csv"},
        },
        district_share=0.42,
    )
    text = "\n".join(sentences)
    assert "No school is filled beyond 105% of its capacity." in text
    assert "Distance from home to school: no limit." in text
    assert "more than 1.5 km farther than their nearest school" in text
    assert "Zones may be split" in text
    assert "At most 20% of students change school." in text
    assert "within 8.0 points of the district's 42.0%, i.e. between 34.0% and 50.0%" in text
    assert "roads.csv" in text
    assert "Shorter trips" not in text


def test_scenario_defaults_fill_missing_keys():
    text = "\n".join(report.describe_scenario({}))
    assert "No school is filled beyond 100% of its capacity." in text
    assert "Extra distance beyond the nearest school: no limit." in text
    assert "one connected area" in text
    assert "straight-line" in text


def test_infeasible_plan_shows_its_diagnosis(grid_plan):
    grid_plan.summary.update(
        status="infeasible", gap=None, diagnosis=["Capacity is 1,050 seats for 1,200 students."]
    )
    page = report.report_html(grid_plan)
    assert "Infeasible: no plan meets every rule" in page
    assert "<li>Capacity is 1,050 seats for 1,200 students.</li>" in page


def test_feasible_plan_states_its_proven_gap(grid_plan):
    grid_plan.summary.update(status="feasible", gap=0.0371)
    assert "time limit ended the search with a proven gap of 3.71%" in report.report_html(grid_plan)


def test_a_plan_whose_proof_alone_the_clock_ended_says_its_search_finished(grid_plan):
    grid_plan.summary.update(status="feasible", gap=0.48, stopped_by="time_limit",
                             clock_ended=["proof"])
    page = report.report_html(grid_plan)
    assert ("the search spent its work budget (the same plan on any machine), the time limit "
            "ended the proof with a proven gap of 48.00%") in page
    grid_plan.summary.update(clock_ended=["proof", "proof checkpoint"])
    assert "time limit ended the search with a proven gap" in report.report_html(grid_plan)


def test_a_plan_over_a_bound_of_zero_states_how_far_it_can_at_most_be_from_the_best(grid_plan):
    """A gap of 100% (bound 0) says little when the plan is nearly perfectly balanced: the report
    also says how far above the best possible plan's objective it can at most be."""
    grid_plan.summary.update(status="feasible", objective=0.0172, bound=0.0, gap=1.0)
    page = report.report_html(grid_plan)
    assert "proven gap of 100.00%" in page
    assert "0.0172 (proven lower bound of this objective: 0.0000; so at most 0.0172 above the " \
           "best possible plan&#39;s)" in page.replace("&#x27;", "&#39;")


def test_chart_has_one_mark_pair_per_school_and_the_band(big_plan):
    page = report.report_html(big_plan)
    svg = page[page.index('<svg class="chart"') : page.index("</svg>")]
    assert svg.count('<g class="school"') == len(big_plan.schools_table)
    assert svg.count('class="before"') == len(big_plan.schools_table)
    assert svg.count('class="after"') == len(big_plan.schools_table)
    assert "Allowed band (±10.0 points)" in svg
    share = big_plan.summary["district_share"]
    assert f"District {100 * share:.1f}%" in svg
    assert "<title" in svg and "<desc" in svg  # read out by screen readers


def test_report_embeds_the_map_and_prints_well(grid_plan):
    page = report.report_html(grid_plan)
    srcdoc = re.search(r'<iframe[^>]*srcdoc="([^"]*)"', page).group(1)
    assert html.unescape(srcdoc).startswith("<!DOCTYPE html>")
    assert "zoneoptUnits" in html.unescape(srcdoc)
    assert "@media print" in page and "page-break-before" in page
    assert "<script src" not in page and "<link" not in page


def test_report_is_deterministic(grid_plan):
    assert report.report_html(grid_plan) == report.report_html(grid_plan)


def test_names_from_input_files_are_escaped_in_the_report():
    units, schools, sq, proposed = grid_district(names=(XSS_NAME, "Birch", "Cedar & Pine"))
    plan = make_plan(units, schools, proposed, sq, title="<script>alert(2)</script>")
    page = report.report_html(plan)
    assert XSS_NAME not in page
    assert "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Cedar &amp; Pine" in page
    # The map inside the srcdoc attribute is escaped once more: no raw tag anywhere.
    srcdoc = re.search(r'<iframe[^>]*srcdoc="([^"]*)"', page).group(1)
    assert "<" not in srcdoc and '"' not in srcdoc


def test_summary_html_is_a_compact_table_without_scripts(grid_plan):
    text = report.summary_html(grid_plan)
    assert "<script" not in text
    assert text.count("<table>") == 2
    for name in grid_plan.schools_table["name"]:
        assert name in text
    row = grid_plan.schools_table.iloc[0]
    assert f"{row['enrollment_before']:,} → {row['enrollment_after']:,}" in text
    assert "Optimal" in text


def test_summary_html_escapes_names():
    units, schools, sq, proposed = grid_district(names=(XSS_NAME, "B", "C"))
    text = report.summary_html(make_plan(units, schools, proposed, sq))
    assert XSS_NAME not in text and "&lt;img" in text


@pytest.mark.parametrize("value", [float("nan"), None])
def test_missing_figures_show_a_dash(grid_plan, value):
    grid_plan.summary["mean_distance_km_after"] = value
    page = report.report_html(grid_plan)
    assert 'data-key="mean_distance_km"' in page
    row = re.search(r'data-key="mean_distance_km">.*?</tr>', page).group(0)
    assert row.endswith('<td class="after">–</td></tr>')


def test_report_of_a_failed_plan_without_assignment(grid_plan):
    grid_plan.assignment = None
    for key in ("dissimilarity_after", "students_moved", "moved_share", "max_utilization_after"):
        grid_plan.summary.pop(key)
    grid_plan.summary.update(
        status="no_solution", objective=None, bound=None, gap=None, diagnosis=["Time ran out."]
    )
    page = report.report_html(grid_plan)
    assert "No plan found within the time limit" in page
    assert "<li>Time ran out.</li>" in page
    row = re.search(r'data-key="dissimilarity">.*?</tr>', page).group(0)
    assert row.endswith('<td class="after">–</td></tr>')


def test_objective_weights_read_on_the_dissimilarity_index():
    text = "\n".join(
        report.describe_scenario({"objective": {"distance_weight": 0.02, "moved_weight": 0.1}})
    )
    assert ("each extra kilometre of average trip costs as much as 0.020 on the dissimilarity "
            "index (0 to 1)") in text
    assert "moving every student would cost as much as 0.100 on the dissimilarity index" in text
