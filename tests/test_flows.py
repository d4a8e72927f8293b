"""Classical paths: the Euler gradient flow and the minimum-action path."""

import jax
import jax.numpy as jnp
import numpy as np

from conftest import exact_gaussian, quadratic_problem
from pathgan import families, whitening
from pathgan.flows import gradient_flow, minimum_action_path
from pathgan.potentials import gan
from pathgan.problem import PathProblem


def test_gradient_flow_is_explicit_euler(faithful_target):
    potential = gan(faithful_target, families.GAUSSIAN)
    problem = PathProblem(
        families.GAUSSIAN,
        potential,
        np.array([-1.3, 0.3]),
        (0, 1),
        duration=2.0,
        time_slices=10,
        friction=2.0,
    )
    flow = np.asarray(gradient_flow(problem))
    x = np.array([-1.3, 0.3])
    for k in range(10):
        np.testing.assert_allclose(flow[k], x, atol=1e-13)
        x = x - 0.2 / 2.0 * np.asarray(jax.grad(potential)(jnp.asarray(x)))


def test_onsager_machlup_free_end_minimum_is_the_gradient_flow(faithful_target):
    potential = gan(faithful_target, families.GAUSSIAN)
    problem = PathProblem(
        families.GAUSSIAN,
        potential,
        np.array([-1.3, 0.3]),
        (0, 1),
        noise_scale=0.02,
        duration=4.0,
        time_slices=24,
    )
    flow = np.asarray(gradient_flow(problem))
    away = flow + 0.2 * np.sin(np.linspace(0, 3, 25))[:, None]
    away[0] = flow[0]
    found = minimum_action_path(problem, initial_path=away)
    assert found.converged
    np.testing.assert_allclose(found.path, flow, atol=1e-6)
    assert found.action < 1e-10


def test_fixed_end_minimum_is_the_gaussian_mode():
    for action in ("euclidean", "onsager_machlup"):
        problem = quadratic_problem(action, "fixed", time_slices=16)
        mean, _ = exact_gaussian(problem)
        found = minimum_action_path(problem)
        moving = np.asarray(whitening.moving_slices(problem, jnp.asarray(found.path)))
        np.testing.assert_allclose(moving[:, 0], mean, atol=1e-7)
