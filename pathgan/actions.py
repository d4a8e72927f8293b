r"""Actions :math:`S[x]` of a discretized path and the normalization of Z.

A path is an array of shape ``(K + 1, n)``: the chart point :math:`x_k` at
times :math:`t_k = k\,dt`. Only the free chart coordinates move; the others
keep their start value and carry no kinetic term. Every path is weighted by
:math:`\exp(-S/\varepsilon)` with ``noise_scale`` :math:`\varepsilon`.
"""

import math

import jax
import jax.numpy as jnp

ACTIONS = ("onsager_machlup", "euclidean")


def step_variance(action, noise_scale, time_step, friction=1.0):
    r"""Variance of one Gaussian step of the free part of an action.

    .. math::

        \sigma^2 = \varepsilon\, dt \ (\text{euclidean}), \qquad
        \sigma^2 = 2 \varepsilon\, dt / \gamma \ (\text{onsager\_machlup})

    per unit of the metric; a chart coordinate with metric :math:`g_j` steps
    with variance :math:`\sigma^2 / g_j`.
    """
    if action == "euclidean":
        return noise_scale * time_step
    if action == "onsager_machlup":
        return 2.0 * noise_scale * time_step / friction
    raise ValueError(f"unknown action {action!r}; allowed: {ACTIONS}")


def log_step_normalizer(action, noise_scale, time_step, friction, metric):
    r"""Log normalizer of one time step, summed over the free coordinates.

    Each step carries the normalizer of its Gaussian step,

    .. math::

        \log \mathcal{N} = \sum_j -\tfrac12 \log\left(2\pi \sigma^2\right)
        + \tfrac12 \log g_j,

    so that a path with :math:`V = 0` and a free end has :math:`Z = 1`. That is
    :math:`(2\pi\varepsilon\,dt)^{-1/2}` per coordinate for ``euclidean`` and
    :math:`(4\pi\varepsilon\,dt/\gamma)^{-1/2}` for ``onsager_machlup``.
    :math:`Z = \mathcal{N}^{K} \int \exp(-S/\varepsilon) \prod dx` over the
    free slices.

    Parameters
    ----------
    action
        ``"onsager_machlup"`` or ``"euclidean"``.
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


def euclidean(path, potential_fn, time_step, free, metric):
    r"""Euclidean (Wick-rotated) action of the paper's Lagrangian.

    .. math::

        S = \sum_{k=0}^{K-1} \left[\frac{|x_{k+1} - x_k|_g^2}{2\,dt}
            + \frac{dt}{2}\left(V(x_k) + V(x_{k+1})\right)\right]

    With the normalizer of :func:`log_step_normalizer` its path integral is
    the imaginary-time propagator of :math:`H = -\tfrac{\varepsilon^2}{2}
    \Delta_g + V` built from the transfer kernel
    :math:`T(x, y) = (2\pi\varepsilon\,dt)^{-n/2}\exp(-|x - y|^2/(2
    \varepsilon\,dt) - dt\,(V(x) + V(y))/(2\varepsilon))`.
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
    if problem.action == "euclidean":
        return lambda path: euclidean(
            path, problem.potential_fn, problem.time_step, free, metric
        )
    raise ValueError(f"unknown action {problem.action!r}; allowed: {ACTIONS}")
