"""Observables of path ensembles on paths whose answers are known by hand."""

import numpy as np
import pytest

from pathgan.observables import action_statistics, crossing_counts, hop_times


def test_crossing_counts_on_hand_made_paths():
    paths = np.array(
        [
            [-1.0, -0.5, 0.5, 1.0, 0.2, -0.3, -1.0],  # up, then down: 2
            [-1.0, -1.0, -0.9, -0.8, -0.5, -0.2, -0.1],  # never: 0
            [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0],  # every step: 6
        ]
    )
    np.testing.assert_array_equal(crossing_counts(paths, 0.0), [2, 0, 6])
    # Broadcasting over (chain, draw) leading axes.
    assert crossing_counts(paths.reshape(1, 3, 7), 0.0).shape == (1, 3)


def test_hop_times_interpolate_the_first_crossing():
    times = np.linspace(0.0, 3.0, 4)
    paths = np.array([[-1.0, -0.5, 0.5, 1.0], [-1.0, -1.0, -1.0, -1.0]])
    found = hop_times(paths, times, 0.0)
    assert found[0] == pytest.approx(1.5)
    assert np.isnan(found[1])


def test_action_statistics_of_a_known_sample():
    actions = np.array([1.0, 2.0, 3.0, 4.0])
    stats = action_statistics(actions, noise_scale=0.5)
    assert stats["action_mean"] == pytest.approx(2.5)
    assert stats["specific_heat"] == pytest.approx(np.var(actions / 0.5, ddof=1))
