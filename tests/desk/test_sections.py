"""Small-count suppression in the report sections and map layers of the other additions: SES
tiers and monitored groups, middle schools and feeder patterns, neighbourhoods, plan years."""

from __future__ import annotations

import html
import re

import numpy as np
from desk_helpers import checked
from districts import grid_frames
from feeder_districts import District, scenario, two_level_frames, write_hoods, write_middle

from zoneopt import Plan, Scenario
from zoneopt.desk.suppress import HIDDEN
from zoneopt.viz.feeders import feeders_section
from zoneopt.viz.tiers import ses_section_html


def test_tier_and_group_shares_from_small_counts_are_hidden():
    units, schools = grid_frames(4, 4, [0, 15], seed=5)
    units["ses_tier"] = 1 + np.arange(16) % 4
    units["report_black"] = units["students"] // 3
    d = District.from_frames(units, schools)
    below = 150
    s = Scenario.from_dict({"report": {"suppress_below": below}})
    plan = checked(Plan.from_assignment(d, s, d.status_quo))
    text = str(ses_section_html(plan))
    table = plan.schools_table
    hidden_cells = 0
    for _, r in table.iterrows():
        rows = re.findall(rf'<th scope="row" class="name">{r["name"]}</th>(.*?)</tr>', text,
                          flags=re.DOTALL)
        tier_cells = re.findall(r"<td>([^<]*)</td>", rows[0])  # the tier table comes first
        group_cells = re.findall(r"<td>([^<]*)</td>", rows[1])
        for t, cell in zip((1, 2, 3, 4), tier_cells, strict=True):
            n, total = r[f"tier_{t}_after"], r["enrollment_after"]
            after = cell.split(" → ")[1]
            if min(n, total - n) < below:
                hidden_cells += 1
                assert after == HIDDEN
            else:
                assert after == f"{100 * r[f'tier_{t}_share_after']:.1f}%"
        n = r["report_black_after"]
        hide = min(n, r["enrollment_after"] - n) < below
        assert (group_cells[0].split(" → ")[1] == HIDDEN) == hide
    assert hidden_cells
    assert str(ses_section_html(Plan.from_assignment(d, Scenario(), d.status_quo))).count(
        HIDDEN) == 0


def test_feeder_and_neighbourhood_counts_below_the_threshold_read_less_than_n(tmp_path):
    units, schools, middle = two_level_frames(2, 4, [0, 3, 5], [1, 6], seed=0, capacity_slack=2.5)
    district = District.from_frames(units, schools)
    s = scenario(tmp_path, middle=write_middle(middle, tmp_path / "m.csv"),
                 hoods=write_hoods({"Oak Park": [2, 3]}, units, tmp_path / "h.geojson"),
                 feeders={"mode": "nested", "middle_max_utilization": 2.0},
                 report={"suppress_below": 10_000})
    plan = checked(Plan.from_assignment(district, s, np.array([0, 0, 0, 1, 2, 2, 2, 2]),
                                        feeds=np.array([0, 1, 1])))
    text = str(feeders_section(plan))
    assert "Oak Park" in text and "Middle 0" in text
    # every count in the section is a middle-school capacity or "<10000"; no share is shown
    body = html.unescape(re.sub(r"<[^>]+>", " ", text))
    numbers = {int(x.replace(",", "")) for x in re.findall(r"(?<![<\d.])\d[\d,]*(?![\d.%])", body)}
    allowed = {int(c) for c in middle["capacity"]} | {0, 1, 2, 3}  # ids, counts of feeders
    assert numbers <= allowed, numbers - allowed
    assert "<10000" in body and "%" not in body
    out = plan.save(tmp_path / "out")
    page = (out / "map.html").read_text()
    assert re.search(r'"enrollment": ?"(<|\\u003c)10000"', page)  # the middle-zone tooltips


def test_years_section_hides_the_use_of_a_school_with_few_students(tmp_path):
    from years_districts import growing_projection

    from zoneopt.viz.years import years_report_table, years_section_html

    units, schools = grid_frames(3, 4, [0, 11], seed=2)
    d = District.from_frames(units, schools)
    proj = growing_projection(d, tmp_path / "p.csv", years=(2027, 2028), series=("mid",))
    base = {"years": {"projections": str(proj), "plan": [2027, 2028]},
            "constraints": {"max_utilization": 3.0}}
    table = years_report_table(Plan.from_assignment(d, Scenario.from_dict(base), d.status_quo))
    below = int(np.median(table["enrollment_proposed"])) + 1
    s = Scenario.from_dict({**base, "report": {"suppress_below": below}})
    plan = checked(Plan.from_assignment(d, s, d.status_quo))
    text = str(years_section_html(plan))
    for _, r in table.iterrows():
        cell = re.search(rf'data-school-id="{r["school_id"]}">.*?data-year="{r["year"]}"[^>]*>'
                         r'<span class="after">([^<]*)</span>', text, flags=re.DOTALL).group(1)
        if r["enrollment_proposed"] < below:
            assert cell == HIDDEN
        else:
            assert cell == f"{100 * r['utilization_proposed']:.0f}%"
