"""Helpers of the desk tests."""

from __future__ import annotations

from zoneopt import check_plan


def checked(plan):
    """The plan, after the independent checker agreed with every figure of its summary.

    Hand-drawn plans may break rules (those sentences are expected); a figure that the checker
    re-derives differently is not.
    """
    d, s = plan.district, plan.scenario
    rules = set(check_plan(d, s, plan.positions).violations)
    report = check_plan(d, s, plan.positions, summary=plan.summary)
    extra = [v for v in report.violations if v not in rules]
    assert not extra, extra
    return plan
