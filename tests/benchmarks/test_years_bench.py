"""The years benchmark's arithmetic: time to reach a target from a trace, and its report."""

import math

from benchmarks.years import report, time_to_reach


def test_time_to_reach_is_the_first_incumbent_at_or_below_the_target():
    trace = [{"seconds": 1.0, "objective": None}, {"seconds": 2.0, "objective": 0.5},
             {"seconds": 4.0, "objective": 0.3}, {"seconds": 9.0, "objective": 0.2}]
    assert time_to_reach(trace, 0.3) == 4.0
    assert time_to_reach(trace, 0.25) == 9.0
    assert time_to_reach(trace, 0.1) == math.inf


def test_the_report_gives_each_run_and_the_median_ratio():
    def run(ratio):
        row = {"objective": 0.3, "bound": 0.1, "first_plan_s": 1.0}
        return {"n_units": 10, "n_schools": 2, "budget_s": 5,
                "single": {**row, "time_to_final_s": 2.0},
                "same": {**row, "time_to_single_final_s": 2 * ratio, "ratio": ratio},
                "growth": {**row, "time_to_single_final_s": math.inf, "ratio": math.inf}}
    text = report([run(0.5), run(1.5), run(3.0)])
    assert text.count("| 5 years x 3 series, counts = today's |") == 3
    assert "Median ratio (counts = today's) over 3 run(s): 1.50." in text
    assert "| never | never |" in text
