r"""Whitened path coordinates: the exact square root of the free path measure.

The kinetic part of every action is a Gaussian random walk with per-step
standard deviation :math:`\sigma_j` (see :attr:`PathProblem.step_scale`).
Standard-normal variables :math:`\xi` are mapped to the path through its exact
square root, so that :math:`\tfrac12|\xi|^2` is the kinetic action over
:math:`\varepsilon` (up to a constant for a fixed end) and the sampler sees a
nearly isotropic target whose conditioning does not grow with :math:`K`:

- free end: :math:`x_k = x_0 + \sigma \sum_{i \le k} \xi_i`
  (a scaled cumulative sum), ``K`` noise rows;
- fixed end: the straight line from :math:`x_0` to :math:`x_K` plus a
  discrete Brownian bridge built by the sine transform that diagonalizes the
  Dirichlet Laplacian, ``K - 1`` noise rows.
"""

import math

import jax.numpy as jnp
import numpy as np


def noise_shape(problem):
    """Shape of the whitened noise array: ``(rows, free coordinates)``."""
    rows = problem.time_slices if problem.end == "free" else problem.time_slices - 1
    return rows, len(problem.free)


def sine_basis(time_slices):
    """Orthonormal sine transform and the Dirichlet Laplacian's eigenvalues.

    Returns ``basis`` with ``basis[k - 1, j - 1] = sqrt(2/K) sin(pi j k / K)``
    and ``eigenvalues[j - 1] = 4 sin^2(pi j / (2K))`` for ``j, k = 1..K-1``.
    """
    k = np.arange(1, time_slices)
    basis = np.sqrt(2.0 / time_slices) * np.sin(np.pi * np.outer(k, k) / time_slices)
    eigenvalues = 4.0 * np.sin(np.pi * k / (2.0 * time_slices)) ** 2
    return basis, eigenvalues


def _line(problem):
    start = jnp.asarray(problem.start)[jnp.asarray(problem.free)]
    end = jnp.asarray(problem.end_state)[jnp.asarray(problem.free)]
    fraction = jnp.arange(1, problem.time_slices) / problem.time_slices
    return start + fraction[:, None] * (end - start)


def embed(problem, moving):
    """Full ``(K + 1, n)`` path from the moving slices of the free coordinates."""
    full = jnp.broadcast_to(
        jnp.asarray(problem.start), (problem.time_slices + 1, len(problem.start))
    )
    free = jnp.asarray(problem.free)
    if problem.end == "free":
        return full.at[1:, free].set(moving)
    end = jnp.asarray(problem.end_state)[free]
    full = full.at[1:-1, free].set(moving)
    return full.at[-1, free].set(end)


def moving_slices(problem, path):
    """The slices of the free coordinates that are sampled (inverse of embed)."""
    free = jnp.asarray(problem.free)
    if problem.end == "free":
        return path[1:, free]
    return path[1:-1, free]


def path_from_noise(problem, noise):
    """Map whitened noise of shape :func:`noise_shape` to the full path."""
    scale = problem.step_scale
    if problem.end == "free":
        start = jnp.asarray(problem.start)[jnp.asarray(problem.free)]
        return embed(problem, start + scale * jnp.cumsum(noise, axis=0))
    basis, eigenvalues = sine_basis(problem.time_slices)
    bridge = jnp.asarray(basis) @ (noise / jnp.sqrt(jnp.asarray(eigenvalues))[:, None])
    return embed(problem, _line(problem) + scale * bridge)


def noise_from_path(problem, path):
    """Inverse of :func:`path_from_noise`."""
    scale = problem.step_scale
    moving = moving_slices(problem, path)
    if problem.end == "free":
        start = jnp.asarray(problem.start)[jnp.asarray(problem.free)]
        steps = jnp.diff(jnp.concatenate([start[None], moving]), axis=0)
        return steps / scale
    basis, eigenvalues = sine_basis(problem.time_slices)
    bridge = (moving - _line(problem)) / scale
    return jnp.sqrt(jnp.asarray(eigenvalues))[:, None] * (jnp.asarray(basis).T @ bridge)


def log_jacobian(problem):
    r""":math:`\log|\det \partial x / \partial \xi|` of :func:`path_from_noise`.

    ``K log sigma`` per free coordinate for a free end; ``(K - 1) log sigma
    - log(K)/2`` for a fixed end, since :math:`\prod_{j=1}^{K-1} 2\sin(\pi
    j/2K) = \sqrt K`.
    """
    rows, _ = noise_shape(problem)
    log_scale = jnp.sum(jnp.log(problem.step_scale))
    if problem.end == "free":
        return rows * log_scale
    return rows * log_scale - 0.5 * len(problem.free) * math.log(problem.time_slices)
