"""The report's sentences under each objective, rendered and read back (zoneopt.viz.wording)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from viz_plans import voronoi_district

import zoneopt
from zoneopt.plan import Plan
from zoneopt.viz import report, wording

OBJECTIVES = {
    "balance": {"balance": "dissimilarity"},
    "balance_distance": {"balance": "dissimilarity", "distance_weight": 0.05},
    "none_moved": {"balance": "none", "moved_weight": 1.0},
    "none_distance": {"balance": "none", "distance_weight": 1.0},
}


class _Read(HTMLParser):
    """The page's visible text by section: cards, summary rows, rules, chart, table headers."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.cards: list[str] = []
        self.rows: dict[str, str] = {}
        self.rules: list[str] = []
        self.headers: list[str] = []
        self.text: list[str] = []
        self.chart_ids: list[str] = []
        self._buf: list[str] | None = None
        self._where = ""
        self._key = ""
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "chart" in (a.get("class") or ""):
            self.chart_ids.append(a.get("id", ""))
        if self._buf is None:
            if tag == "div" and a.get("class") == "card":
                self._where, self._buf = "card", []
            elif tag == "tr" and a.get("data-key"):
                self._where, self._key, self._buf = "row", a["data-key"], []
            elif tag == "li" and self.stack and self.stack[-1][1].get("id") == "scenario":
                self._where, self._buf = "rule", []
            elif tag == "th" and a.get("scope") == "colgroup":
                self._where, self._buf = "header", []
            self._depth = len(self.stack)
        self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        if self._buf is not None and len(self.stack) == self._depth:
            words = " ".join(" ".join(self._buf).split())
            if self._where == "card":
                self.cards.append(words)
            elif self._where == "row":
                self.rows[self._key] = words
            elif self._where == "rule":
                self.rules.append(words)
            else:
                self.headers.append(words)
            self._buf, self._where = None, ""

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        self.text.append(data)
        if self._buf is not None:
            self._buf.append(data)


@pytest.fixture(scope="module")
def district():
    units, schools, _, _ = voronoi_district(n_units=60, n_schools=4, seed=11)
    # One school today far beyond its seats: the redraw has seats short to remove.
    schools = schools.assign(capacity=[int(c) for c in schools["capacity"]])
    return zoneopt.District.from_frames(units, schools)


def _read(district, objective: dict, assignment=None) -> tuple[_Read, Plan]:
    scenario = zoneopt.Scenario.from_dict({"objective": objective,
                                           "constraints": {"max_utilization": 1.1}})
    pos = district.status_quo.copy() if assignment is None else assignment
    plan = Plan.from_assignment(district, scenario, pos)
    page = report.report_html(plan)
    reader = _Read()
    reader.feed(page)
    return reader, plan


def _moved(district):
    """A plan that moves the units next to another school's zone: every figure changes."""
    pos = district.status_quo.copy()
    adj = district.adjacency.tocsr()
    homes = set(district.home_unit.tolist())
    for i in range(district.n_units):
        if i in homes:
            continue
        other = [pos[n] for n in adj[i].indices if pos[n] != pos[i]]
        if other and i % 3 == 0:
            pos[i] = other[0]
    return pos


@pytest.mark.parametrize("name", ["balance", "balance_distance"])
def test_a_balance_report_shows_d_as_an_index_with_its_meaning(district, name):
    got, plan = _read(district, OBJECTIVES[name], _moved(district))
    s = plan.summary
    d_card = next(c for c in got.cards if c.startswith("Dissimilarity index"))
    assert f"{s['dissimilarity_before']:.3f} → {s['dissimilarity_after']:.3f}" in d_card
    assert "0 = every school has the district's mix; 1 = complete separation" in d_card
    assert not re.search(r"\d+\.\d% → \d+\.\d%", d_card)  # never a percentage
    assert got.rows["dissimilarity"].endswith(
        f"{s['dissimilarity_before']:.3f} {s['dissimilarity_after']:.3f}")
    assert got.rules[0].startswith("Goal: make each school's mix of low-income and other")
    assert "Low-income share" in got.headers and got.chart_ids == ["share-chart"]
    lede = next(t for t in got.text if t.startswith("A proposal for"))
    assert "to balance each school's share of low-income students" in lede
    if name == "balance_distance":
        assert ("each extra kilometre of average trip costs as much as 0.050 on the "
                "dissimilarity index (0 to 1)") in " ".join(got.rules)
        assert "keep trips short" in lede
        assert "the dissimilarity index (0 to 1) + 0.05 x the average distance" in " ".join(
            got.text)


@pytest.mark.parametrize("name", ["none_moved", "none_distance"])
def test_a_capacity_redraw_report_speaks_of_seats_and_makes_no_low_income_claim(district, name):
    got, plan = _read(district, OBJECTIVES[name], _moved(district))
    text = " ".join(" ".join(got.text).split())
    assert [c.split(" ")[0] for c in got.cards][:2] == ["Seats", "Fullest"]
    assert not any("Dissimilarity" in c or "share gap" in c for c in got.cards)
    assert "dissimilarity" not in got.rows and "max_share_gap" not in got.rows
    assert {"seats_short", "overcrowded", "max_utilization"} <= set(got.rows)
    assert "low-income" not in text.lower().replace(
        "low-income students are not part of this question", "")
    assert got.headers == ["Enrollment", "Utilization", "Seats short", "Mean distance"]
    assert got.chart_ids == ["utilization-chart"]
    goal = got.rules[0]
    if name == "none_moved":
        assert goal == "Goal: meet every capacity and distance rule, moving as few students as possible."
        assert "What the search minimised 1 x the share of students who change school" in text
    else:
        assert goal == ("Goal: meet every capacity and distance rule, keeping trips from home to "
                        "school as short as possible.")
        assert "1 x the average distance from home to school (km)" in text
    # the bound is labelled as the objective's own
    assert f"proven lower bound of this objective: {plan.summary['bound']:.4f}" in text
    if plan.summary["status"] == "feasible":
        above = plan.summary["objective"] - plan.summary["bound"]
        assert f"so at most {above:.4f} above the best possible plan's" in text


def test_seats_short_and_todays_fullest_school_are_read_from_the_table(district):
    got, plan = _read(district, OBJECTIVES["none_moved"])
    table = plan.schools_table
    limit = table["capacity"] * 1.1
    short = np.ceil((table["enrollment_before"] - limit).clip(lower=0)).astype(int)
    assert got.rows["seats_short"].endswith(f"{short.sum():,} {short.sum():,}")
    k = int(table["utilization_before"].to_numpy().argmax())
    fullest = f"{100 * table['utilization_before'].iloc[k]:.0f}% ({table['name'].iloc[k]})"
    assert fullest in got.rows["max_utilization"]  # today's fullest school, never "–"
    assert f"{(short > 0).sum()} of {len(table)}" in got.rows["overcrowded"]


def test_unit_names_come_from_the_scenario_or_are_guessed():
    assert wording.guess_unit_name("PBID", ["PB001"]) == "planning blocks"
    assert wording.guess_unit_name("unit_id", ["060670001011"]) == "block groups"
    assert wording.guess_unit_name("GEOID", ["06067000101"]) == "tracts"
    assert wording.guess_unit_name("unit_id", ["060670001011001"]) == "census blocks"
    assert wording.guess_unit_name("unit_id", ["a", "b"]) == "areas"
    assert wording.guess_unit_name("unit_id", ["1"], "data/block_groups.gpkg") == "block groups"


def test_the_report_lede_uses_the_scenarios_unit_name(district):
    scenario = zoneopt.Scenario.from_dict({"report": {"unit_name": "planning blocks"}})
    plan = Plan.from_assignment(district, scenario, district.status_quo)
    assert "drawn from 60 planning blocks" in report.report_html(plan)


def test_cli_headline_names_the_objective_and_its_bound():
    s = {"scenario": {"objective": {"balance": "none", "moved_weight": 1.0}},
         "objective": 0.08, "bound": 0.07, "dissimilarity_before": 0.0}
    line = wording.headline(s)
    assert line == ("minimised 1 x the share of students who change school "
                    "(objective 0.0800, proven bound 0.0700)")
    s["scenario"] = {}
    s.update(dissimilarity_before=0.2, dissimilarity_after=0.1)
    assert wording.headline(s).startswith("dissimilarity 0.2000 -> 0.1000 (objective 0.0800")


def test_a_tiers_report_shows_the_tiers_index_and_no_low_income_claims():
    units, schools, _, _ = voronoi_district(n_units=60, n_schools=4, seed=11)
    units = units.assign(ses_tier=[1 + i % 4 for i in range(len(units))])  # tiers need ses_tier
    district = zoneopt.District.from_frames(units, schools)
    scenario = zoneopt.Scenario.from_dict({"objective": {"balance": "tiers"}})
    plan = Plan.from_assignment(district, scenario, district.status_quo)
    plan.summary.update(tier_dissimilarity_before=0.31, tier_dissimilarity_after=0.12)
    reader = _Read()
    reader.feed(report.report_html(plan))
    assert reader.cards[0].startswith("SES tiers dissimilarity 0.310 → 0.120")
    assert "dissimilarity" not in reader.rows and "tier_dissimilarity" in reader.rows
    assert reader.rules[0].startswith("Goal: make each school's mix of students of every")
    assert "Low-income share" not in reader.headers


def test_with_nested_feeders_the_objective_names_the_middle_schools_term():
    """The nested search minimises D + balance_weight x middle D: the CLI line and the report said
    only "the dissimilarity index" beside a figure that holds both."""
    nested = {"objective": {"balance": "dissimilarity"},
              "feeders": {"mode": "nested", "balance_weight": 0.5}}
    assert wording.objective_name(wording.question(nested)) == (
        "the dissimilarity index (0 to 1) + 0.5 x the middle schools' dissimilarity index")
    reported = dict(nested, feeders={"mode": "report", "balance_weight": 0.5})
    assert wording.objective_name(wording.question(reported)) == "the dissimilarity index (0 to 1)"
