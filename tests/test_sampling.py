"""Sampled ensembles against exact Gaussians and exact draws.

Tolerances are Monte Carlo standard errors: every estimate is compared with
its exact value in units of its MCSE (ArviZ, autocorrelation-aware). With a
few dozen comparisons per test, a bound of 5 standard errors keeps the chance
of a false alarm per test below about 1e-5 (normal tails, Bonferroni), while a
bias of a few percent of a standard deviation still fails.
"""

import arviz as az
import jax
import numpy as np
import pytest
import xarray as xr

from conftest import exact_gaussian, quadratic_problem
from pathgan import families
from pathgan.potentials import gan, polynomial
from pathgan.problem import PathProblem
from pathgan.sampling import (
    diagnostics,
    exact_paths,
    moving_entries,
    path_model,
    sample_paths,
)

Z_BOUND = 5.0


def _z_scores(values, exact):
    """(estimate - exact) / MCSE for draws ``values`` of shape (chain, draw, m)."""
    dataset = xr.Dataset({"v": (("chain", "draw", "i"), values)})
    estimate = values.mean(axis=(0, 1))
    mcse = az.mcse(dataset)["v"].values
    return (estimate - exact) / mcse


def _two_sample_z_scores(first, second):
    """Difference of two independent estimates over its standard error.

    ``first`` and ``second`` have shape (chain, draw, m); each mean's MCSE is
    autocorrelation-aware, and the two are independent, so they add in
    quadrature.
    """
    errors = [
        az.mcse(xr.Dataset({"v": (("chain", "draw", "i"), values)}))["v"].values
        for values in (first, second)
    ]
    gap = first.mean(axis=(0, 1)) - second.mean(axis=(0, 1))
    return gap / np.hypot(*errors)


def _check_gaussian(problem, idata):
    mean, precision = exact_gaussian(problem)
    covariance = np.linalg.inv(precision)
    x = moving_entries(problem, idata).sel(coordinate="mean").values
    assert np.abs(_z_scores(x, mean)).max() < Z_BOUND
    centred = x - mean
    upper = np.triu_indices(mean.size)
    products = centred[..., upper[0]] * centred[..., upper[1]]
    assert np.abs(_z_scores(products, covariance[upper])).max() < Z_BOUND
    # Quadratic action: S/eps - S_min/eps is chi^2_n / 2: mean n/2, variance n/2.
    action = idata.posterior["action"].values[..., None] / problem.noise_scale
    minimum = idata.constant_data.attrs["minimum_action"] / problem.noise_scale
    n = mean.size
    assert abs(_z_scores(action - minimum, n / 2)[0]) < Z_BOUND
    spread = (action - minimum - n / 2) ** 2
    assert abs(_z_scores(spread, n / 2)[0]) < Z_BOUND


@pytest.mark.parametrize(
    ("action", "end"),
    [
        ("onsager_machlup", "free"),
        ("onsager_machlup", "fixed"),
        ("euclidean", "free"),
        ("euclidean", "fixed"),
        ("underdamped", "free"),
        ("underdamped", "fixed"),
        ("euclidean", "periodic"),
    ],
)
def test_nuts_matches_the_exact_gaussian_path(action, end):
    problem = quadratic_problem(action, end, time_slices=8)
    idata = sample_paths(
        problem, jax.random.PRNGKey(11), num_chains=4, num_warmup=400, num_samples=1500
    )
    assert diagnostics(problem, idata)["divergences"] == 0
    _check_gaussian(problem, idata)


def test_plain_parameterization_matches_the_exact_gaussian_path():
    problem = quadratic_problem("euclidean", "fixed", time_slices=8)
    idata = sample_paths(
        problem,
        jax.random.PRNGKey(5),
        num_chains=4,
        num_warmup=400,
        num_samples=1500,
        parameterization="plain",
    )
    _check_gaussian(problem, idata)


@pytest.mark.parametrize("action", ["onsager_machlup", "underdamped"])
def test_exact_draws_match_the_exact_gaussian_path(action):
    problem = quadratic_problem(action, "free", time_slices=8)
    idata = exact_paths(problem, jax.random.PRNGKey(2), num_chains=4, num_samples=2000)
    _check_gaussian(problem, idata)


def test_nuts_agrees_with_exact_draws_on_the_gan_potential(faithful_target):
    # Difference of two independent estimates, in units of its standard error.
    problem = PathProblem(
        families.GAUSSIAN,
        gan(faithful_target, families.GAUSSIAN),
        np.array([-1.3, 0.3]),
        (0, 1),
        noise_scale=0.02,
        duration=1.5,
        time_slices=12,
    )
    # The drift's Hessian enters the Onsager-Machlup gradient, so the target
    # is curved where the width is small; a smaller step avoids divergences.
    nuts = sample_paths(
        problem,
        jax.random.PRNGKey(0),
        num_chains=4,
        num_warmup=250,
        num_samples=500,
        target_accept=0.95,
    )
    exact = exact_paths(problem, jax.random.PRNGKey(1), num_chains=4, num_samples=2000)
    diag = diagnostics(problem, nuts)
    assert diag["divergences"] == 0 and diag["rhat_max"] < 1.02
    for name in ("mean", "width"):
        a = moving_entries(problem, nuts).sel(coordinate=name).values
        b = moving_entries(problem, exact).sel(coordinate=name).values
        for first, second in ((a, b), ((a - a.mean()) ** 2, (b - b.mean()) ** 2)):
            assert np.abs(_two_sample_z_scores(first, second)).max() < Z_BOUND


def test_path_model_is_a_plain_numpyro_model():
    from numpyro.infer import Predictive

    problem = quadratic_problem("euclidean", "free", time_slices=6)
    draws = Predictive(path_model(problem), num_samples=7)(jax.random.PRNGKey(0))
    assert draws["path"].shape == (7, 7, 2)
    assert draws["noise"].shape == (7, 6, 1)


def test_inference_data_layout():
    problem = quadratic_problem("euclidean", "fixed", time_slices=6)
    idata = sample_paths(
        problem, jax.random.PRNGKey(0), num_chains=2, num_warmup=50, num_samples=50
    )
    assert idata.groups() == ["posterior", "sample_stats", "constant_data"]
    assert idata.posterior["path"].dims == ("chain", "draw", "time", "coordinate")
    assert list(idata.posterior["coordinate"].values) == ["mean", "width"]
    for stat in ("diverging", "tree_depth", "n_steps", "energy"):
        assert stat in idata.sample_stats
    assert idata.sample_stats.attrs["gradient_evaluations"] == int(
        idata.sample_stats["n_steps"].sum()
    )
    assert "minimum_action_path" in idata.constant_data


def test_same_seed_gives_the_same_ensemble():
    problem = quadratic_problem("onsager_machlup", "fixed", time_slices=6)
    first = sample_paths(
        problem, jax.random.PRNGKey(4), num_chains=2, num_warmup=30, num_samples=30
    )
    second = sample_paths(
        problem, jax.random.PRNGKey(4), num_chains=2, num_warmup=30, num_samples=30
    )
    np.testing.assert_array_equal(
        first.posterior["path"].values, second.posterior["path"].values
    )


def test_exact_draws_refuse_a_fixed_end():
    problem = quadratic_problem("onsager_machlup", "fixed")
    with pytest.raises(ValueError, match="exact draws exist only"):
        exact_paths(problem, jax.random.PRNGKey(0))


def test_nuts_agrees_with_exact_draws_on_an_underdamped_double_well():
    # A non-Gaussian ensemble of the underdamped action: NUTS in whitened
    # coordinates against the exact phase-space Euler map.
    problem = PathProblem(
        families.GAUSSIAN,
        polynomial([0.0, 0.1, -0.5, 0.0, 0.25], families.GAUSSIAN, (0,)),
        np.array([0.1, 1.0]),
        (0,),
        action="underdamped",
        noise_scale=0.2,
        friction=1.5,
        duration=3.0,
        time_slices=24,
        initial_velocity=np.array([0.5, 0.0]),
    )
    # As for Onsager-Machlup, the drift's Hessian enters the action's
    # gradient. Even with a small step NUTS reports a divergence or two in
    # 4000 draws here (at |x| ~ 1.6, on the quartic wall); the comparison
    # with the exact draws below is what decides whether that biases it.
    nuts = sample_paths(
        problem,
        jax.random.PRNGKey(8),
        num_chains=4,
        num_warmup=400,
        num_samples=1000,
        target_accept=0.95,
    )
    exact = exact_paths(problem, jax.random.PRNGKey(9), num_chains=4, num_samples=2000)
    diag = diagnostics(problem, nuts)
    assert diag["divergences"] <= 4 and diag["rhat_max"] < 1.02
    a = moving_entries(problem, nuts).sel(coordinate="mean").values
    b = moving_entries(problem, exact).sel(coordinate="mean").values
    for first, second in ((a, b), (a**2, b**2)):
        assert np.abs(_two_sample_z_scores(first, second)).max() < Z_BOUND


def test_exact_draws_do_not_depend_on_the_batch_size():
    problem = quadratic_problem("underdamped", "free", time_slices=6)
    key = jax.random.PRNGKey(1)
    one = exact_paths(problem, key, num_chains=3, num_samples=10, batch_size=7)
    two = exact_paths(problem, key, num_chains=3, num_samples=10, batch_size=256)
    np.testing.assert_array_equal(
        one.posterior["path"].values, two.posterior["path"].values
    )
    np.testing.assert_array_equal(
        one.posterior["action"].values, two.posterior["action"].values
    )


def test_one_chain_runs():
    problem = quadratic_problem("euclidean", "fixed", time_slices=6)
    idata = sample_paths(
        problem, jax.random.PRNGKey(0), num_chains=1, num_warmup=20, num_samples=20
    )
    assert idata.posterior["path"].shape == (1, 20, 7, 2)


def test_exact_draws_that_blow_up_are_an_error():
    from pathgan.sampling import NonFiniteStartError

    problem = quadratic_problem("underdamped", "free", initial_velocity=1e300)
    with pytest.raises(NonFiniteStartError, match="not finite"):
        exact_paths(problem, jax.random.PRNGKey(0), num_chains=2, num_samples=5)
    with pytest.raises(ValueError, match="num_samples = 0"):
        exact_paths(problem, jax.random.PRNGKey(0), num_samples=0)
