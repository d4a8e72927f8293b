"""Actions and the normalization of Z against exact Gaussian integrals."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import trapezoid

from conftest import exact_gaussian, quadratic_problem
from pathgan import actions, families, whitening
from pathgan.flows import gradient_flow
from pathgan.potentials import polynomial
from pathgan.problem import PathProblem


def _log_z_gaussian(problem, omega):
    """log Z of a quadratic problem by its exact Gaussian integral."""
    mean, precision = exact_gaussian(problem, omega=omega)
    action = actions.action_fn(problem)
    path = whitening.embed(problem, jnp.asarray(mean)[:, None])
    minimum = float(action(path)) / problem.noise_scale
    n = mean.size
    log_norm = problem.time_slices * float(
        actions.log_step_normalizer(
            problem.action,
            problem.noise_scale,
            problem.time_step,
            problem.friction,
            problem.metric,
        )
    )
    return (
        log_norm
        - minimum
        + 0.5 * n * math.log(2 * math.pi)
        - 0.5 * np.linalg.slogdet(precision)[1]
    )


@pytest.mark.parametrize("action", ["euclidean", "onsager_machlup"])
def test_free_end_with_zero_potential_has_unit_partition_function(action):
    problem = quadratic_problem(action, "free", omega=0.0, time_slices=12)
    assert _log_z_gaussian(problem, omega=0.0) == pytest.approx(0.0, abs=1e-9)


def test_onsager_machlup_free_end_quadratic_has_unit_partition_function():
    problem = quadratic_problem("onsager_machlup", "free", omega=1.5, time_slices=12)
    assert _log_z_gaussian(problem, omega=1.5) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("action", ["euclidean", "onsager_machlup"])
def test_whitening_constants_give_unit_partition_function(action):
    # log Z = K log N + log|J| + (rows/2) log 2 pi + log E[exp(log weight)];
    # with V = 0 and a free end the weight is 1, so the constants sum to 0.
    problem = quadratic_problem(action, "free", omega=0.0, time_slices=20)
    rows, cols = whitening.noise_shape(problem)
    total = (
        problem.time_slices
        * actions.log_step_normalizer(
            action,
            problem.noise_scale,
            problem.time_step,
            problem.friction,
            problem.metric,
        )
        + whitening.log_jacobian(problem)
        + 0.5 * rows * cols * math.log(2 * math.pi)
    )
    assert float(total) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("action", "friction", "variance_per_time"),
    [("euclidean", 1.0, 0.1), ("onsager_machlup", 2.5, 2 * 0.1 / 2.5)],
)
def test_fixed_end_zero_potential_is_the_gaussian_transition_density(
    action, friction, variance_per_time
):
    # With V = 0 the integrand is Gaussian in the whitened noise, so its
    # integral is the weight at zero noise times (2 pi)^(rows/2); Z must be
    # N(x_K; x_0, variance_per_time * T) with eps = 0.1.
    problem = quadratic_problem(
        action,
        "fixed",
        omega=0.0,
        time_slices=16,
        start=0.3,
        end_mean=1.1,
        friction=friction,
    )
    rows, cols = whitening.noise_shape(problem)
    path = whitening.path_from_noise(problem, jnp.zeros((rows, cols)))
    log_weight = -float(actions.action_fn(problem)(path)) / problem.noise_scale
    log_z = (
        problem.time_slices
        * actions.log_step_normalizer(
            action, problem.noise_scale, problem.time_step, friction, problem.metric
        )
        + whitening.log_jacobian(problem)
        + 0.5 * rows * math.log(2 * math.pi)
        + log_weight
    )
    variance = variance_per_time * problem.duration
    expected = -0.5 * math.log(2 * math.pi * variance) - 0.8**2 / (2 * variance)
    assert float(log_z) == pytest.approx(expected, abs=1e-12)


def test_step_normalizers_match_the_documented_constants():
    eps, dt, gamma = 0.07, 0.03, 2.5
    om = actions.log_step_normalizer("onsager_machlup", eps, dt, gamma, jnp.ones(1))
    eu = actions.log_step_normalizer("euclidean", eps, dt, gamma, jnp.ones(1))
    assert float(om) == pytest.approx(-0.5 * math.log(4 * math.pi * eps * dt / gamma))
    assert float(eu) == pytest.approx(-0.5 * math.log(2 * math.pi * eps * dt))
    scaled = actions.log_step_normalizer("euclidean", eps, dt, gamma, jnp.full(2, 4.0))
    assert float(scaled) == pytest.approx(2 * float(eu) + math.log(4.0))


@pytest.mark.parametrize(
    ("action", "fields", "grid"),
    [
        ("onsager_machlup", {}, np.linspace(-4.0, 4.0, 801)),
        (
            "underdamped",
            {"friction": 1.5, "initial_velocity": np.array([0.4, 0.0])},
            np.linspace(-3.0, 3.5, 1301),
        ),
    ],
)
def test_free_end_has_unit_partition_function_for_a_double_well(action, fields, grid):
    # Z = 1 for any V: checked by quadrature over the two free slices of
    # K = 2; the grids cover the weight to far below the 1e-8 tolerance.
    coefficients = [0.0, 0.3, -1.0, 0.0, 1.0]
    problem = PathProblem(
        family=families.GAUSSIAN,
        potential_fn=polynomial(coefficients, families.GAUSSIAN, (0,)),
        start=np.array([0.2, 1.0]),
        free=(0,),
        action=action,
        noise_scale=0.3,
        duration=0.2 if action == "onsager_machlup" else 0.6,
        time_slices=2,
        **fields,
    )
    weight_fn = jax.jit(jax.vmap(actions.action_fn(problem)))
    x1, x2 = np.meshgrid(grid, grid, indexing="ij")
    paths = np.stack([np.full_like(x1, 0.2), x1, x2], axis=-1)
    paths = np.stack([paths, np.ones_like(paths)], axis=-1).reshape(-1, 3, 2)
    weight = np.exp(-np.asarray(weight_fn(jnp.asarray(paths))) / problem.noise_scale)
    integral = trapezoid(trapezoid(weight.reshape(x1.shape), grid, axis=1), grid)
    log_norm = 2 * float(
        actions.log_step_normalizer(
            action,
            problem.noise_scale,
            problem.time_step,
            problem.friction,
            jnp.ones(1),
        )
    )
    assert math.log(integral) + log_norm == pytest.approx(0.0, abs=1e-7)


def test_onsager_machlup_action_vanishes_on_the_gradient_flow():
    problem = quadratic_problem("onsager_machlup", "free", time_slices=30)
    flow = gradient_flow(problem)
    assert float(actions.action_fn(problem)(flow)) == pytest.approx(0.0, abs=1e-24)


def test_unknown_action_is_refused():
    with pytest.raises(ValueError, match="allowed"):
        actions.step_variance("lagrangian", 0.1, 0.1)
