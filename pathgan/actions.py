r"""Actions :math:`S[x]` of a discretized path and the normalization of Z.

A path is an array of shape ``(K + 1, n)``: the chart point :math:`x_k` at
times :math:`t_k = k\,dt`. Only the free chart coordinates move; the others
keep their start value and carry no kinetic term. Every path is weighted by
:math:`\exp(-S/\varepsilon)` with ``noise_scale`` :math:`\varepsilon`.
"""

import math

import jax
import jax.numpy as jnp

ACTIONS = ("onsager_machlup", "underdamped", "euclidean")


def step_variance(action, noise_scale, time_step, friction=1.0):
    r"""Variance of one Gaussian step of the free part of an action.

    .. math::

        \sigma^2 = \varepsilon\, dt \ (\text{euclidean}), \qquad
        \sigma^2 = 2 \varepsilon\, dt / \gamma \ (\text{onsager\_machlup}),
        \qquad
        \sigma^2 = 2 \gamma \varepsilon\, dt^3 \ (\text{underdamped})

    per unit of the metric; a chart coordinate with metric :math:`g_j` steps
    with variance :math:`\sigma^2 / g_j`. For ``underdamped`` the noise
    enters the velocity with variance :math:`2\gamma\varepsilon\,dt`, and a
    position step is :math:`dt` times a velocity, hence :math:`dt^3`.
    """
    if action == "euclidean":
        return noise_scale * time_step
    if action == "onsager_machlup":
        return 2.0 * noise_scale * time_step / friction
    if action == "underdamped":
        return 2.0 * friction * noise_scale * time_step**3
    raise ValueError(f"unknown action {action!r}; allowed: {ACTIONS}")


def log_step_normalizer(action, noise_scale, time_step, friction, metric):
    r"""Log normalizer of one time step, summed over the free coordinates.

    Each step carries the normalizer of its Gaussian step,

    .. math::

        \log \mathcal{N} = \sum_j -\tfrac12 \log\left(2\pi \sigma^2\right)
        + \tfrac12 \log g_j,

    so that a path with :math:`V = 0` and a free end has :math:`Z = 1`. That is
    :math:`(2\pi\varepsilon\,dt)^{-1/2}` per coordinate for ``euclidean``,
    :math:`(4\pi\varepsilon\,dt/\gamma)^{-1/2}` for ``onsager_machlup`` and
    :math:`(4\pi\gamma\varepsilon\,dt^3)^{-1/2}` for ``underdamped``.
    :math:`Z = \mathcal{N}^{K} \int \exp(-S/\varepsilon) \prod dx` over the
    free slices: :math:`x_1..x_K` (free end), :math:`x_1..x_{K-1}` (fixed
    end) or :math:`x_0..x_{K-1}` (periodic).

    Parameters
    ----------
    action
        ``"onsager_machlup"``, ``"underdamped"`` or ``"euclidean"``.
    noise_scale
        :math:`\varepsilon > 0`.
    time_step
        :math:`dt = T / K`.
    friction
        :math:`\gamma` (ignored by ``euclidean``).
    metric
        The diagonal of the metric :math:`g` on the free coordinates.
    """
    variance = step_variance(action, noise_scale, time_step, friction)
    metric = jnp.asarray(metric)
    return jnp.sum(-0.5 * math.log(2 * math.pi * variance) + 0.5 * jnp.log(metric))


def onsager_machlup(path, potential_fn, time_step, friction, free, metric):
    r"""Onsager–Machlup action of the overdamped noisy gradient flow.

    .. math::

        S = \sum_{k=0}^{K-1} \frac{\gamma}{4\,dt}
            \left|x_{k+1} - x_k + \frac{dt}{\gamma}\, g^{-1}\nabla V(x_k)
            \right|_g^2

    the Euler–Maruyama discretization of
    :math:`dx = -\gamma^{-1} g^{-1}\nabla V\,dt + \sqrt{2\varepsilon/\gamma}\,dW`.
    Its minimum over a free end is 0, attained by the explicit-Euler gradient
    flow.
    """
    grad = jax.vmap(jax.grad(potential_fn))(path[:-1])[:, free] / metric
    x = path[:, free]
    residual = x[1:] - x[:-1] + (time_step / friction) * grad
    return friction / (4.0 * time_step) * jnp.sum(metric * residual**2)


def underdamped(
    path, potential_fn, time_step, friction, free, metric, initial_velocity
):
    r"""Onsager–Machlup action of the damped dynamics with inertia.

    .. math::

        S = \sum_{k=0}^{K-1} \frac{1}{4\gamma\,dt}
            \left|v_{k+1} - v_k + dt\left(\gamma v_k
            + g^{-1}\nabla V(x_k)\right)\right|_g^2,
        \qquad v_k = \frac{x_k - x_{k-1}}{dt}\ (k \ge 1),

    with :math:`v_0` the given initial velocity: the semi-implicit Euler
    discretization of :math:`\ddot x + \gamma \dot x + g^{-1}\nabla V =
    \sqrt{2\gamma\varepsilon}\,\xi`, the velocity kicked first and the
    position moved with the new velocity. Its minimum over a free end is 0,
    attained by :func:`pathgan.flows.damped_flow`.

    Parameters
    ----------
    path
        Array of shape ``(K + 1, n)``.
    potential_fn
        ``potential_fn(chart) -> V``.
    time_step, friction
        :math:`dt` and :math:`\gamma`.
    free, metric
        Indices of the free coordinates and their metric.
    initial_velocity
        :math:`v_0` on the free coordinates.
    """
    grad = jax.vmap(jax.grad(potential_fn))(path[:-1])[:, free] / metric
    x = path[:, free]
    velocity = jnp.concatenate(
        [jnp.asarray(initial_velocity)[None], jnp.diff(x, axis=0) / time_step]
    )
    residual = (
        velocity[1:] - velocity[:-1] + time_step * (friction * velocity[:-1] + grad)
    )
    return jnp.sum(metric * residual**2) / (4.0 * friction * time_step)


def euclidean(path, potential_fn, time_step, free, metric):
    r"""Euclidean (Wick-rotated) action of the paper's Lagrangian.

    .. math::

        S = \sum_{k=0}^{K-1} \left[\frac{|x_{k+1} - x_k|_g^2}{2\,dt}
            + \frac{dt}{2}\left(V(x_k) + V(x_{k+1})\right)\right]

    With the normalizer of :func:`log_step_normalizer` its path integral is
    the imaginary-time propagator of :math:`H = -\tfrac{\varepsilon^2}{2}
    \Delta_g + V` built from the transfer kernel
    :math:`T(x, y) = (2\pi\varepsilon\,dt)^{-n/2}\exp(-|x - y|^2/(2
    \varepsilon\,dt) - dt\,(V(x) + V(y))/(2\varepsilon))`: the transition
    density :math:`T^K(x_0, x_K)` for a fixed end and, on a periodic path
    (:math:`x_K = x_0`), the thermal trace :math:`\mathrm{Tr}\,T^K`.
    """
    values = jax.vmap(potential_fn)(path)
    x = path[:, free]
    kinetic = jnp.sum(metric * jnp.diff(x, axis=0) ** 2) / (2.0 * time_step)
    potential = 0.5 * time_step * jnp.sum(values[:-1] + values[1:])
    return kinetic + potential


def action_fn(problem):
    """``action(path) -> S`` for the action a :class:`PathProblem` names."""
    free = jnp.asarray(problem.free)
    metric = problem.metric
    if problem.action == "onsager_machlup":
        return lambda path: onsager_machlup(
            path,
            problem.potential_fn,
            problem.time_step,
            problem.friction,
            free,
            metric,
        )
    if problem.action == "underdamped":
        velocity = jnp.asarray(problem.free_initial_velocity)
        return lambda path: underdamped(
            path,
            problem.potential_fn,
            problem.time_step,
            problem.friction,
            free,
            metric,
            velocity,
        )
    if problem.action == "euclidean":
        return lambda path: euclidean(
            path, problem.potential_fn, problem.time_step, free, metric
        )
    raise ValueError(f"unknown action {problem.action!r}; allowed: {ACTIONS}")
