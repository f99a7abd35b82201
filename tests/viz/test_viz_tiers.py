"""The report's SES section and the map's tier layers (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest
from districts import grid_frames

from zoneopt import District, Scenario
from zoneopt.plan import Plan
from zoneopt.viz.maps import map_html
from zoneopt.viz.report import report_html
from zoneopt.viz.tiers import LAYER_SCHOOL_TIERS, LAYER_UNIT_TIERS, ses_section_html, tier_colors


@pytest.fixture(scope="module")
def tiers_plan():
    units, schools = grid_frames(4, 4, [0, 15], seed=5)
    units["ses_tier"] = 1 + np.arange(16) % 4
    units["ses_score"] = np.linspace(5, 95, 16)
    units["report_black"] = units["students"] // 3
    d = District.from_frames(units, schools)
    s = Scenario.from_dict({"objective": {"balance": "tiers"}, "constraints": {"tier_band": 0.35, "max_utilization": 1.3}})
    pos = d.status_quo.copy()
    pos[[2, 3]] = 0
    plan = Plan.from_assignment(d, s, pos)
    plan.check().raise_if_failed()
    return plan


def test_section_has_the_bars_the_tier_table_and_the_monitoring_sentence(tiers_plan):
    text = str(ses_section_html(tiers_plan))
    assert text.count("<rect") >= 4 + 2 * 2  # legend, and at least one piece per bar
    assert "multi-group dissimilarity index goes from" in text
    assert "This plan balances all tiers at once" in text
    assert "They played no part in the assignment" in text
    table = tiers_plan.schools_table
    first = table.iloc[0]
    assert f"{100 * first['tier_1_share_before']:.1f}% → {100 * first['tier_1_share_after']:.1f}%" \
        in text
    assert "within 35% points" in text


def test_report_includes_the_section_and_a_plain_plan_has_none(tiers_plan):
    assert 'id="ses"' in report_html(tiers_plan)
    units, schools = grid_frames(3, 3, [0, 8], seed=1)
    d = District.from_frames(units, schools)
    plain = Plan.from_assignment(d, Scenario.from_dict({"constraints": {"max_utilization": 2.0}}),
                                 d.status_quo)
    plain.check().raise_if_failed()
    assert str(ses_section_html(plain)) == ""
    assert 'id="ses"' not in report_html(plain)


def test_map_lists_the_tier_layers_before_its_layer_control(tiers_plan):
    text = map_html(tiers_plan)
    assert LAYER_UNIT_TIERS in text and LAYER_SCHOOL_TIERS in text
    # Named among the control's overlays, and declared before the control uses them.
    entry = text.index(f'"{LAYER_UNIT_TIERS}" : feature_group_')
    var = text[entry:].split(": ", 1)[1].split(",", 1)[0].strip()
    assert text.index(f"var {var} =") < text.index("L.control.layers")
    assert "monitored only, not used to assign anyone" in text
    assert "$(`" not in text  # no jQuery popups: these maps do not embed jQuery
    assert map_html(tiers_plan) == text  # deterministic


def test_tier_colours_run_dark_to_light():
    def lum(c):
        r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    cols = tier_colors(4)
    assert all(lum(a) < lum(b) for a, b in zip(cols, cols[1:], strict=False))


def test_tier_layers_open_offline_without_script_errors(browser, open_page, tiers_plan):
    from test_browser import script_errors

    open_page(map_html(tiers_plan))
    browser.execute_script("""
        document.querySelectorAll('.leaflet-control-layers-overlays label').forEach(function (l) {
            if (l.textContent.indexOf('SES tier') >= 0 || l.textContent.indexOf('Tier mix') >= 0)
                l.querySelector('input').click();
        });""")
    assert script_errors(browser) == []
    fills = browser.execute_script(
        "return Array.from(document.querySelectorAll('path.leaflet-interactive'))"
        ".map(function (p) { return p.getAttribute('fill'); });")
    assert set(tier_colors(4)) <= set(fills)
    legend = browser.execute_script(
        "var l = document.querySelector('.zoneopt-tier-legend'); return l && l.textContent;")
    assert legend and "Tier 1 (lowest SES)" in legend


def test_unit_popups_suppress_small_counts(tiers_plan):
    from dataclasses import replace

    s = tiers_plan.scenario.with_values({"report.suppress_below": 1000})
    text = map_html(replace(tiers_plan, scenario=s))
    assert r'"students": "\u003c1000"' in text  # "<1000", escaped in the script
