import numpy as np
import pytest

from zoneopt import metrics


def test_dissimilarity_by_hand():
    # school 0: 30 low, 10 other; school 1: 10 low, 50 other -> L=40, N=60
    students = np.array([40, 60])
    low = np.array([30, 10])
    d = metrics.dissimilarity(np.array([0, 1]), students, low, 2)
    assert d == pytest.approx(0.5 * (abs(30 / 40 - 10 / 60) + abs(10 / 40 - 50 / 60)))


def test_dissimilarity_scale_turns_deviations_into_d():
    rng = np.random.default_rng(0)
    students = rng.integers(1, 100, 30)
    low = (students * rng.random(30)).astype(int)
    assign = rng.integers(0, 4, 30)
    p = low.sum() / students.sum()
    dev = np.bincount(assign, weights=low - p * students, minlength=4)
    d = metrics.dissimilarity(assign, students, low, 4)
    assert metrics.dissimilarity_scale(students, low) * np.abs(dev).sum() == pytest.approx(d)


def test_figures_of_a_two_school_plan():
    students = np.array([10, 20, 30])
    low = np.array([5, 0, 15])
    dist = np.array([[1.0, 3.0], [2.0, 1.0], [4.0, 0.5]])
    assign = np.array([0, 1, 1])
    assert metrics.enrollment(assign, students, 2).tolist() == [10, 50]
    assert metrics.mean_distance_km(assign, students, dist) == pytest.approx((10 + 20 + 15) / 60)
    assert metrics.students_moved(assign, np.array([0, 0, 1]), students) == 20
    shares = metrics.low_income_shares(assign, students, low, 2)
    assert shares.tolist() == pytest.approx([0.5, 0.3])
    assert metrics.max_share_gap(assign, students, low, 2) == pytest.approx(0.5 - 20 / 60)


def test_nothing_to_balance_gives_zero():
    assert metrics.dissimilarity(np.array([0, 1]), np.array([5, 5]), np.array([0, 0]), 2) == 0.0
