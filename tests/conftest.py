"""Shared fixtures: float64 on (importing pathgan does it), Agg backend."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import pathgan  # noqa: E402, F401
from pathgan import data, families  # noqa: E402
from pathgan.problem import PathProblem  # noqa: E402
from pathgan.potentials import polynomial  # noqa: E402


@pytest.fixture(scope="session")
def faithful_target():
    samples, text = data.load_samples("old_faithful", ["eruptions"], True)
    return data.kernel_density(samples, "silverman", text)


def quadratic_problem(
    action,
    end,
    omega=1.5,
    centre=0.4,
    noise_scale=0.1,
    time_slices=8,
    duration=2.0,
    friction=1.0,
    start=1.0,
    end_mean=-0.5,
    initial_velocity=0.3,
):
    """A problem whose action is quadratic: V = omega^2 (mean - centre)^2 / 2.

    ``initial_velocity`` is used by the underdamped action only.
    """
    coefficients = [0.5 * omega**2 * centre**2, -(omega**2) * centre, 0.5 * omega**2]
    free = (0,)
    return PathProblem(
        family=families.GAUSSIAN,
        potential_fn=polynomial(coefficients, families.GAUSSIAN, free),
        start=np.array([start, 1.0]),
        free=free,
        action=action,
        noise_scale=noise_scale,
        friction=friction,
        duration=duration,
        time_slices=time_slices,
        end=end,
        end_state=np.array([end_mean, 1.0]) if end == "fixed" else None,
        initial_velocity=(
            np.array([initial_velocity, 0.0]) if action == "underdamped" else None
        ),
    )


def exact_gaussian(problem, omega=1.5, centre=0.4):
    """Mean and precision of the moving slices of a quadratic path problem.

    Built here from the action's formulas, independently of pathgan's code:
    Onsager-Machlup is an AR(1) chain (bidiagonal square root of the
    precision), the euclidean action a tridiagonal precision.
    """
    k = problem.time_slices
    dt = problem.duration / k
    eps = problem.noise_scale
    gamma = problem.friction
    x0 = problem.start[0]
    fixed = problem.end == "fixed"
    xk = problem.end_state[0] if fixed else None
    n = k - 1 if fixed else k
    if problem.end == "periodic":
        # Cyclic Laplacian / (eps dt) plus the potential's dt * omega^2 / eps.
        laplacian = 2 * np.eye(k) - np.roll(np.eye(k), 1, 0) - np.roll(np.eye(k), -1, 0)
        precision = laplacian / (eps * dt) + dt * omega**2 / eps * np.eye(k)
        linear = np.full(k, dt * omega**2 * centre / eps)
        return np.linalg.solve(precision, linear), precision
    if problem.action == "underdamped":
        v0 = problem.initial_velocity[0]

        def residuals(moving):
            # r_k = v_{k+1} - v_k + dt (gamma v_k + V'(x_k)), v_0 given.
            x = np.concatenate([[x0], moving, [xk] if fixed else []])
            v = np.concatenate([[v0], np.diff(x) / dt])
            force = omega**2 * (x[:-1] - centre)
            return v[1:] - v[:-1] + dt * (gamma * v[:-1] + force)

        offset = residuals(np.zeros(n))
        lower = np.stack([residuals(e) - offset for e in np.eye(n)], axis=1)
        variance = 2 * gamma * eps * dt
        precision = lower.T @ lower / variance
        return np.linalg.solve(precision, -lower.T @ offset / variance), precision
    if problem.action == "onsager_machlup":
        rho = 1.0 - dt * omega**2 / gamma
        shift = dt * omega**2 * centre / gamma
        lower = np.zeros((k, n))
        known = np.full(k, shift)
        for row in range(k):
            if row < n:
                lower[row, row] = 1.0
            if row >= 1:
                lower[row, row - 1] = -rho
        known[0] += rho * x0
        if fixed:
            known[k - 1] = shift - xk
        variance = 2 * eps * dt / gamma
        precision = lower.T @ lower / variance
        linear = lower.T @ known / variance
    else:
        precision = np.zeros((n, n))
        linear = np.zeros(n)
        for i in range(n):
            is_last_free = (not fixed) and i == n - 1
            weight = 0.5 if is_last_free else 1.0
            precision[i, i] = (1.0 if is_last_free else 2.0) / (eps * dt)
            precision[i, i] += weight * dt * omega**2 / eps
            linear[i] += weight * dt * omega**2 * centre / eps
            if i + 1 < n:
                precision[i, i + 1] = precision[i + 1, i] = -1.0 / (eps * dt)
        linear[0] += x0 / (eps * dt)
        if fixed:
            linear[n - 1] += xk / (eps * dt)
    return np.linalg.solve(precision, linear), precision


def periodic_oscillator(time_slices, duration, omega):
    """<x^2> and log Z of the periodic lattice oscillator V = w^2 x^2 / 2, eps = 1.

    With a = dt and R = 1 + a^2 w^2 / 2 - a w sqrt(1 + a^2 w^2 / 4):
    <x^2> = (1 + R^K) / ((1 - R^K) 2 w sqrt(1 + a^2 w^2 / 4)) and
    Z = R^(K/2) / (1 - R^K).
    """
    a = duration / time_slices
    root = math.sqrt(1 + a**2 * omega**2 / 4)
    ratio = 1 + a**2 * omega**2 / 2 - a * omega * root
    power = ratio**time_slices
    second = (1 + power) / ((1 - power) * 2 * omega * root)
    return second, 0.5 * time_slices * math.log(ratio) - math.log(1 - power)
