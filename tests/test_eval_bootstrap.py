"""Bootstrap intervals and the paired bootstrap test."""

from __future__ import annotations

import numpy as np
import pytest

from eval.bootstrap import mean_ci, paired_test, resample


def test_resampling_is_seeded():
    assert np.array_equal(resample(50, 20, seed=3), resample(50, 20, seed=3))
    assert not np.array_equal(resample(50, 20, seed=3), resample(50, 20, seed=4))


def test_interval_brackets_the_mean_and_shrinks_with_more_data():
    rng = np.random.default_rng(0)
    small, large = rng.normal(30, 10, 40), rng.normal(30, 10, 1000)
    low_s, high_s = mean_ci(small, resample(len(small), 2000))
    low_l, high_l = mean_ci(large, resample(len(large), 2000))
    assert low_s < small.mean() < high_s
    assert low_l < large.mean() < high_l
    assert high_l - low_l < (high_s - low_s) / 3
    # the normal approximation, 1.96 standard errors each side
    assert high_l - low_l == pytest.approx(2 * 1.96 * large.std() / np.sqrt(len(large)), rel=0.15)


def test_constant_scores_have_a_point_interval():
    assert mean_ci(np.full(30, 42.0), resample(30, 100)) == (42.0, 42.0)


def test_identical_systems_do_not_differ():
    values = np.random.default_rng(1).uniform(0, 50, 200)
    result = paired_test(values, values.copy(), resample(200, 500))
    assert result.diff == 0.0
    assert result.p == 1.0
    assert not result.significant


def test_consistent_small_gain_is_significant_where_unpaired_noise_is_large():
    rng = np.random.default_rng(2)
    base = rng.uniform(10, 60, 300)  # large spread between articles
    better = base + rng.normal(0.5, 0.5, 300)  # small, consistent gain on each article
    result = paired_test(better, base, resample(300, 1000))
    assert result.diff == pytest.approx(0.5, abs=0.1)
    assert result.significant and result.low > 0
    assert result.p < 0.01
    reverse = paired_test(base, better, resample(300, 1000))
    assert reverse.diff == pytest.approx(-result.diff) and reverse.high < 0


def test_noise_alone_is_not_significant():
    rng = np.random.default_rng(3)
    a, b = rng.normal(30, 5, 100), rng.normal(30, 5, 100)
    result = paired_test(a, b, resample(100, 1000))
    assert result.p > 0.05


def test_p_value_agrees_with_the_interval():
    rng = np.random.default_rng(4)
    indices = resample(80, 1000, seed=5)
    disagreements = 0
    for shift in np.linspace(0, 1.5, 60):
        a = rng.normal(30, 3, 80)
        result = paired_test(a + rng.normal(shift, 2, 80), a, indices)
        disagreements += (result.p < 0.05) != result.significant
    assert disagreements <= 2
