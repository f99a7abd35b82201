"""An impossible tier_band is explained: which school, which tier, and the band that would do."""

from __future__ import annotations

import pytest
from districts import grid_frames

from zoneopt import District, InfeasibleError, Scenario, optimize
from zoneopt.model import eligible_pairs
from zoneopt.model.elastic import active_families, explain_infeasibility


def _one_rich_unit():
    """Tier 2 lives in one unit only: no two schools can both hold a tenth of their students there."""
    units, schools = grid_frames(2, 3, [0, 5], seed=3)
    units["ses_tier"] = [1, 1, 1, 1, 1, 2]
    return District.from_frames(units, schools)


def test_tier_band_is_a_family_that_can_stretch():
    d = _one_rich_unit()
    s = Scenario.from_dict({"constraints": {"tier_band": 0.05}})
    assert "tier_band" in active_families(s)
    findings = explain_infeasibility(d, s, eligible_pairs(d, s), time_limit=5)
    assert any("tier band must widen" in f and "SES tier" in f for f in findings), findings
    assert any("raise tier_band to at least" in f for f in findings)


def test_optimize_reports_an_impossible_tier_band_as_infeasible():
    d = _one_rich_unit()
    s = Scenario.from_dict({"objective": {"balance": "tiers"},
                            "constraints": {"tier_band": 0.05, "contiguity": False},
                            "solver": {"time_limit_s": 10}})
    with pytest.raises(InfeasibleError) as err:
        optimize(d, s)
    assert any("tier_band" in f for f in err.value.diagnosis)
