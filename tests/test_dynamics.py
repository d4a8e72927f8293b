"""The underdamped action, periodic paths and instantons against exact results."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.optimize

from conftest import exact_gaussian, periodic_oscillator, quadratic_problem
from pathgan import actions, families, flows, whitening
from pathgan.potentials import polynomial
from pathgan.problem import PathProblem, check_problem

GAUSSIAN = families.GAUSSIAN
DOUBLE_WELL = [0.0, 0.3, -1.0, 0.0, 1.0]

NEW_CASES = [
    ("underdamped", "free"),
    ("underdamped", "fixed"),
    ("euclidean", "periodic"),
]


def _mean_problem(coefficients, **fields):
    """A problem on the gaussian mean (width fixed at 1) with V polynomial."""
    base = dict(
        family=GAUSSIAN,
        potential_fn=polynomial(coefficients, GAUSSIAN, (0,)),
        start=np.array([1.0, 1.0]),
        free=(0,),
    )
    return check_problem(PathProblem(**(base | fields)))


def _log_z_quadratic(problem):
    """log Z of a quadratic action: the Gaussian integral in whitened coordinates.

    log Z = K log N + log|J| + (rows/2) log 2 pi - S_min/eps - log det(H)/2,
    with H the Hessian of S/eps in the whitened noise (exact for a quadratic
    action, whatever the whitening).
    """
    shape = whitening.noise_shape(problem)
    action = actions.action_fn(problem)

    def objective(flat):
        path = whitening.path_from_noise(problem, flat.reshape(shape))
        return action(path) / problem.noise_scale

    value_and_grad = jax.jit(jax.value_and_grad(objective))
    found = scipy.optimize.minimize(
        lambda x: tuple(np.asarray(v) for v in value_and_grad(jnp.asarray(x))),
        np.zeros(shape[0] * shape[1]),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 10_000},
    )
    hessian = np.asarray(jax.hessian(objective)(jnp.asarray(found.x)))
    log_norm = problem.time_slices * actions.log_step_normalizer(
        problem.action,
        problem.noise_scale,
        problem.time_step,
        problem.friction,
        problem.metric,
    )
    return float(
        log_norm
        + whitening.log_jacobian(problem)
        + 0.5 * found.x.size * math.log(2 * math.pi)
        - found.fun
        - 0.5 * np.linalg.slogdet(hessian)[1]
    )


@pytest.mark.parametrize(("action", "end"), NEW_CASES)
def test_whitened_free_part_is_half_squared_noise(action, end):
    # With V = 0, S/eps - |xi|^2/2 is the same constant for every noise.
    problem = quadratic_problem(action, end, omega=0.0, time_slices=16)
    action_fn = actions.action_fn(problem)
    shape = whitening.noise_shape(problem)
    if end == "periodic":
        # The zero mode has no kinetic cost: drop it from |xi|^2.
        weights = np.ones(shape)
        weights[0] = 0.0
    else:
        weights = np.ones(shape)
    gaps = []
    for seed in range(3):
        noise = jax.random.normal(jax.random.PRNGKey(seed), shape)
        path = whitening.path_from_noise(problem, noise)
        kinetic = float(action_fn(path)) / problem.noise_scale
        gaps.append(kinetic - 0.5 * float(jnp.sum(weights * noise**2)))
    np.testing.assert_allclose(gaps, gaps[0], atol=1e-9)


@pytest.mark.parametrize(
    ("time_slices", "duration", "omega"),
    [(16, 4.0, 1.0), (8, 2.0, 1.5), (32, 16.0, 0.7)],
)
def test_periodic_harmonic_oscillator_partition_function(time_slices, duration, omega):
    # Z = R^(K/2) / (1 - R^K), R = 1 + a^2 w^2/2 - a w sqrt(1 + a^2 w^2/4), eps = 1.
    problem = quadratic_problem(
        "euclidean",
        "periodic",
        omega=omega,
        centre=0.0,
        noise_scale=1.0,
        time_slices=time_slices,
        duration=duration,
        start=0.3,
    )
    _, expected = periodic_oscillator(time_slices, duration, omega)
    assert _log_z_quadratic(problem) == pytest.approx(expected, abs=1e-9)


def test_periodic_quadratic_precision_matches_the_closed_form_second_moment():
    # The oracle's own consistency: its Gaussian gives the closed-form <x^2>.
    k, duration, omega = 16, 4.0, 1.0
    problem = quadratic_problem(
        "euclidean",
        "periodic",
        omega=omega,
        centre=0.0,
        noise_scale=1.0,
        time_slices=k,
        duration=duration,
    )
    _, precision = exact_gaussian(problem, omega=omega, centre=0.0)
    closed, _ = periodic_oscillator(k, duration, omega)
    assert np.diag(np.linalg.inv(precision)).mean() == pytest.approx(closed, rel=1e-12)


@pytest.mark.parametrize("omega", [0.0, 1.5])
def test_underdamped_free_end_quadratic_has_unit_partition_function(omega):
    problem = quadratic_problem(
        "underdamped", "free", omega=omega, time_slices=12, friction=2.0
    )
    assert _log_z_quadratic(problem) == pytest.approx(0.0, abs=1e-9)


def test_underdamped_fixed_end_zero_potential_is_the_transition_density():
    # With V = 0, x_K = x_0 + dt sum_k v_k with v an AR(1) chain of the kicks:
    # Gaussian, with mean and variance written out here from the recursion.
    problem = quadratic_problem(
        "underdamped",
        "fixed",
        omega=0.0,
        time_slices=10,
        friction=2.0,
        start=0.3,
        end_mean=1.1,
        initial_velocity=0.4,
    )
    k, dt, gamma, eps = 10, problem.time_step, 2.0, problem.noise_scale
    rho = 1 - gamma * dt
    kick = math.sqrt(2 * gamma * eps * dt)
    mean = 0.3 + dt * 0.4 * sum(rho**j for j in range(1, k + 1))
    loadings = [
        dt * kick * sum(rho ** (j - 1 - i) for j in range(i + 1, k + 1))
        for i in range(k)
    ]
    variance = sum(c * c for c in loadings)
    expected = -0.5 * math.log(2 * math.pi * variance) - (1.1 - mean) ** 2 / (
        2 * variance
    )
    assert _log_z_quadratic(problem) == pytest.approx(expected, abs=1e-9)


def test_underdamped_action_vanishes_on_the_damped_flow():
    problem = _mean_problem(
        DOUBLE_WELL,
        action="underdamped",
        duration=5.0,
        time_slices=50,
        initial_velocity=np.array([0.5, 0.0]),
    )
    flow = flows.damped_flow(problem)
    assert float(actions.action_fn(problem)(flow)) == pytest.approx(0.0, abs=1e-24)
    found = flows.minimum_action_path(problem)
    np.testing.assert_allclose(found.path, flow, atol=1e-9)


def test_damped_flow_is_semi_implicit_euler():
    problem = _mean_problem(
        DOUBLE_WELL,
        action="underdamped",
        friction=0.7,
        duration=1.0,
        time_slices=10,
        initial_velocity=np.array([-0.2, 0.0]),
    )
    flow = np.asarray(flows.damped_flow(problem))[:, 0]
    slope = np.polynomial.Polynomial(DOUBLE_WELL).deriv()
    x, v, dt = 1.0, -0.2, 0.1
    for k in range(10):
        assert flow[k] == pytest.approx(x, abs=1e-14)
        v = v - dt * (0.7 * v + slope(x))
        x = x + dt * v


def _overdamped_gap(friction, velocity):
    """Sup over rescaled times in [0, 1] of |damped flow - gradient flow|.

    The damped flow runs for physical time friction * 1 with friction * dt =
    0.05 (its lattice error is far below the gaps measured); the gradient
    flow dy/dtau = -V'(y) is solved by SciPy to 1e-12.
    """
    duration = friction * 1.0
    slices = int(round(friction * duration / 0.05))
    problem = _mean_problem(
        DOUBLE_WELL,
        start=np.array([1.2, 1.0]),
        action="underdamped",
        friction=friction,
        duration=duration,
        time_slices=slices,
        initial_velocity=np.array([velocity, 0.0]),
    )
    damped = np.asarray(flows.damped_flow(problem))[:, 0]
    slope = np.polynomial.Polynomial(DOUBLE_WELL).deriv()
    tau = np.linspace(0.0, 1.0, 201)
    reference = scipy.integrate.solve_ivp(
        lambda t, y: -slope(y),
        (0.0, 1.0),
        [1.2],
        t_eval=tau,
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
    ).y[0]
    rescaled = np.linspace(0.0, 1.0, slices + 1)
    return np.max(np.abs(np.interp(tau, rescaled, damped) - reference))


@pytest.mark.parametrize(("velocity", "order"), [(2.0, 1.0), (0.0, 2.0)])
def test_damped_flow_tends_to_the_gradient_flow_as_friction_grows(velocity, order):
    # With time rescaled by gamma the gap is v_0/gamma + O(1/gamma^2): order 1
    # with an initial velocity, order 2 from rest. The next-order term shifts
    # the fitted slope by a few hundredths over gamma = 32..256 (measured:
    # -1.04 and -2.02), so a band of 0.1 still tells the orders apart.
    frictions = np.array([32.0, 64.0, 128.0, 256.0])
    gaps = [_overdamped_gap(g, velocity) for g in frictions]
    fitted = np.polyfit(np.log(frictions), np.log(gaps), 1)[0]
    assert fitted == pytest.approx(-order, abs=0.1)


def test_instanton_action_tends_to_the_continuum_value():
    # V = (x^2 - 1)^2 / 2: wells at -1 and 1, continuum action
    # sqrt(2) * integral of sqrt(V) = 4/3. The lattice error is O(dt^2); the
    # finite duration costs about exp(-omega T) = exp(-40), nothing.
    coefficients = [0.5, 0.0, -1.0, 0.0, 0.5]
    gaps = []
    for slices in (200, 400):
        problem = _mean_problem(
            coefficients, action="euclidean", duration=20.0, time_slices=slices
        )
        found = flows.instanton(problem, coefficients)
        assert found.continuum_action == pytest.approx(4.0 / 3.0, rel=1e-12)
        assert found.wells == pytest.approx((-1.0, 0.0, 1.0))
        gaps.append(found.action - found.continuum_action)
        assert abs(gaps[-1]) < 1e-3
    # Second order: halving dt divides the gap by about 4.
    assert 3.5 < gaps[0] / gaps[1] < 4.5


def test_instanton_of_an_asymmetric_well_and_its_crossing_time():
    problem = _mean_problem(
        DOUBLE_WELL, action="euclidean", duration=24.0, time_slices=240
    )
    found = flows.instanton(problem, DOUBLE_WELL)
    lower, barrier, upper = found.wells
    power = np.polynomial.Polynomial(DOUBLE_WELL)
    assert power.deriv()(lower) == pytest.approx(0.0, abs=1e-10)
    assert power.deriv()(upper) == pytest.approx(0.0, abs=1e-10)
    assert lower < barrier < upper
    path = found.path[:, 0]
    assert path[0] == lower and path[-1] == pytest.approx(upper)
    # t = 0 is where the path crosses the barrier.
    assert np.interp(0.0, found.times, path) == pytest.approx(barrier, abs=1e-9)
    assert found.action == pytest.approx(found.continuum_action, rel=2e-3)


def test_instanton_needs_two_wells():
    with pytest.raises(ValueError, match="an instanton needs two"):
        flows.polynomial_wells([0.0, 0.0, 1.0])


def test_periodic_minimum_action_path_rests_in_a_well():
    problem = _mean_problem(
        DOUBLE_WELL,
        start=np.array([-0.8, 1.0]),
        action="euclidean",
        end="periodic",
        duration=4.0,
        time_slices=16,
        noise_scale=0.2,
    )
    found = flows.minimum_action_path(problem)
    lower, _, _ = flows.polynomial_wells(DOUBLE_WELL)
    np.testing.assert_allclose(found.path[:, 0], lower, atol=1e-6)
    assert found.path[0, 0] == found.path[-1, 0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(action="onsager_machlup", end="periodic"), "end 'periodic' needs action"),
        (dict(action="underdamped", end="periodic"), "end 'periodic' needs action"),
        (dict(action="euclidean", end="fixed"), "a fixed end needs an end_state"),
        (
            dict(action="euclidean", initial_velocity=np.zeros(2)),
            "initial_velocity is only used by action 'underdamped'",
        ),
    ],
)
def test_impossible_problems_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        _mean_problem(DOUBLE_WELL, **fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(action="underdamped", friction=100.0), "friction \\* time_step"),
        (dict(noise_scale=-1.0), "noise_scale = -1.0"),
        (dict(free=(0, 0)), "distinct indices"),
        (dict(free=(2,)), "distinct indices"),
        (
            dict(action="underdamped", initial_velocity=np.array([0.0, 1.0])),
            "coordinates that are not free must be at rest",
        ),
        (dict(start=np.array([np.nan, 1.0])), "2 finite numbers needed"),
    ],
)
def test_inconsistent_problems_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        _mean_problem(DOUBLE_WELL, duration=4.0, time_slices=16, **fields)


def test_instanton_does_not_depend_on_the_constant_term():
    actions_found = []
    for constant in (0.0, 1e12, 1e300):
        coefficients = [constant, 0.0, -2.0, 0.0, 1.0]
        problem = _mean_problem(
            coefficients, action="euclidean", duration=8.0, time_slices=64
        )
        actions_found.append(flows.instanton(problem, coefficients).action)
    assert actions_found[1] == actions_found[0] == actions_found[2]


def test_instanton_refuses_bad_input():
    problem = _mean_problem(DOUBLE_WELL, action="euclidean", duration=8.0)
    with pytest.raises(ValueError, match="finite numbers"):
        flows.instanton(problem, [np.nan, 0.0, -2.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="index of a free coordinate"):
        flows.instanton(problem, DOUBLE_WELL, coordinate=5)
    width_problem = _mean_problem(DOUBLE_WELL, action="euclidean", free=(1,))
    with pytest.raises(ValueError, match="reflected at 0"):
        flows.instanton(width_problem, DOUBLE_WELL)
