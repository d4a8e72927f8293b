"""Whitened path coordinates: exact inverses, kinetic energy, Jacobians."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import quadratic_problem
from pathgan import whitening


CASES = [
    ("euclidean", "free"),
    ("euclidean", "fixed"),
    ("euclidean", "periodic"),
    ("onsager_machlup", "free"),
    ("onsager_machlup", "fixed"),
    ("underdamped", "free"),
    ("underdamped", "fixed"),
]


@pytest.mark.parametrize(("action", "end"), CASES)
def test_noise_and_path_are_inverse_maps(action, end):
    problem = quadratic_problem(action, end, time_slices=24)
    noise = jax.random.normal(jax.random.PRNGKey(3), whitening.noise_shape(problem))
    path = whitening.path_from_noise(problem, noise)
    np.testing.assert_allclose(
        whitening.noise_from_path(problem, path), noise, rtol=0, atol=1e-10
    )
    if end == "periodic":
        assert float(path[0, 0]) == float(path[-1, 0])
    else:
        assert float(path[0, 0]) == problem.start[0]
    if end == "fixed":
        assert float(path[-1, 0]) == pytest.approx(problem.end_state[0], abs=1e-14)


@pytest.mark.parametrize("end", ["free", "fixed"])
def test_half_squared_noise_is_the_kinetic_action(end):
    # For a fixed end the straight line adds |x_K - x_0|^2 / (2 sigma^2 K).
    problem = quadratic_problem("euclidean", end, time_slices=16)
    noise = jax.random.normal(jax.random.PRNGKey(0), whitening.noise_shape(problem))
    path = whitening.path_from_noise(problem, noise)
    sigma2 = float(problem.step_scale[0]) ** 2
    kinetic = float(jnp.sum(jnp.diff(path[:, 0]) ** 2)) / (2 * sigma2)
    line = 0.0
    if end == "fixed":
        line = (problem.end_state[0] - problem.start[0]) ** 2 / (
            2 * sigma2 * problem.time_slices
        )
    assert kinetic == pytest.approx(0.5 * float(jnp.sum(noise**2)) + line, rel=1e-12)


@pytest.mark.parametrize(("action", "end"), CASES)
def test_log_jacobian_matches_the_determinant(action, end):
    problem = quadratic_problem(action, end, time_slices=12)
    shape = whitening.noise_shape(problem)

    def moving(flat):
        path = whitening.path_from_noise(problem, flat.reshape(shape))
        return whitening.moving_slices(problem, path).ravel()

    jacobian = jax.jacobian(moving)(jnp.zeros(shape[0] * shape[1]))
    _, log_det = np.linalg.slogdet(np.asarray(jacobian))
    assert float(whitening.log_jacobian(problem)) == pytest.approx(log_det, abs=1e-9)
