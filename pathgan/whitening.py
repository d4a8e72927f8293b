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
  Dirichlet Laplacian, ``K - 1`` noise rows;
- periodic (``euclidean``): the real Fourier transform that diagonalizes the
  cyclic Laplacian, ``K`` noise rows. The constant (zero) mode has no kinetic
  cost; its row moves the path's mean by ``zero_mode_scale`` per unit, a
  scale set by the potential's curvature at the start (see
  :func:`zero_mode_scale`);
- ``underdamped``: the free part is an integrated Ornstein–Uhlenbeck
  process. With a free end the map is the noise-free recursion itself (the
  noise rows are the velocity kicks), with a fixed end the inverse of the
  triangular factor of the conditioned process's precision. Both are dense
  ``(rows, rows)`` triangular matrices: memory grows as :math:`K^2` (8 MB at
  ``K = 1024``).
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg


def noise_shape(problem):
    """Shape of the whitened noise array: ``(rows, free coordinates)``."""
    rows = problem.time_slices - 1 if problem.end == "fixed" else problem.time_slices
    return rows, len(problem.free)


@functools.lru_cache(maxsize=16)
def fourier_basis(time_slices):
    r"""Orthonormal real Fourier basis and the cyclic Laplacian's eigenvalues.

    Returns ``basis`` of shape ``(K, K)`` whose column 0 is the constant
    :math:`K^{-1/2}`, followed by :math:`\sqrt{2/K}\cos(2\pi jk/K)` and
    :math:`\sqrt{2/K}\sin(2\pi jk/K)` for each frequency
    :math:`0 < j < K/2` and, for even ``K``, :math:`(-1)^k/\sqrt K`; and
    ``eigenvalues`` with ``eigenvalues[c] = 4 sin^2(pi j/K)`` for the
    frequency ``j`` of column ``c`` (0 for the constant).
    """
    k = np.arange(time_slices)
    columns = [np.full(time_slices, 1.0 / math.sqrt(time_slices))]
    frequencies = [0]
    for j in range(1, (time_slices + 1) // 2):
        angle = 2.0 * np.pi * j * k / time_slices
        columns += [math.sqrt(2.0 / time_slices) * np.cos(angle)]
        columns += [math.sqrt(2.0 / time_slices) * np.sin(angle)]
        frequencies += [j, j]
    if time_slices % 2 == 0:
        columns.append((-1.0) ** k / math.sqrt(time_slices))
        frequencies.append(time_slices // 2)
    basis = np.stack(columns, axis=1)
    eigenvalues = 4.0 * np.sin(np.pi * np.asarray(frequencies) / time_slices) ** 2
    return basis, eigenvalues


def zero_mode_scale(problem):
    r"""Scale of the periodic path's constant mode, per free coordinate.

    The mean :math:`\bar x` of a periodic path feels no kinetic term, only
    :math:`T\,V(\bar x)`, so its spread is about
    :math:`(\varepsilon / (T\kappa))^{1/2}` for the curvature
    :math:`\kappa` of :math:`V` at the start. A curvature below the
    slowest Fourier mode's, :math:`g\,(2\pi/T)^2`, is raised to it, so a flat
    or concave start still gets a finite scale. NUTS adapts its mass matrix
    on top, so this only has to be the right order of magnitude.
    """
    free = np.asarray(problem.free)
    with jax.ensure_compile_time_eval():
        hessian = jax.hessian(problem.potential_fn)(
            jnp.asarray(problem.start, dtype=jnp.float64)
        )
        curvature = np.asarray(jnp.diag(hessian))[free]
        metric = np.asarray(problem.metric)
    floor = metric * (2.0 * np.pi / problem.duration) ** 2
    curvature = np.where(np.isfinite(curvature), curvature, floor)
    return np.sqrt(
        problem.noise_scale / (problem.duration * np.maximum(curvature, floor))
    )


@functools.lru_cache(maxsize=16)
def underdamped_system(time_slices, time_step, friction, end):
    r"""The linear map of the ``underdamped`` action's free part.

    The residuals of :func:`pathgan.actions.underdamped` with :math:`V = 0`,
    times :math:`dt`, are :math:`A x + B (x_0, v_0, x_K)` for the moving
    slices :math:`x`. Returns ``(square_root, mean_map, log_det)``:
    :math:`x = \text{mean\_map}\,(x_0, v_0, x_K) + \sigma\,
    \text{square\_root}\,\xi` with :math:`\sigma` the position step scale
    maps standard normal :math:`\xi` to the free part exactly, and
    ``log_det`` is :math:`\log|\det \text{square\_root}|`.
    """
    k_max = time_slices
    rho = 1.0 - friction * time_step
    # Columns: x_0 .. x_K, then v_0. Row k: dt * (v_{k+1} - rho v_k).
    full = np.zeros((k_max, k_max + 2))
    for k in range(k_max):
        full[k, k + 1] += 1.0
        full[k, k] -= 1.0
        if k == 0:
            full[k, k_max + 1] -= rho * time_step
        else:
            full[k, k] -= rho
            full[k, k - 1] += rho
    last = k_max if end == "free" else k_max - 1
    moving = full[:, 1 : last + 1]
    known = full[:, [0, k_max + 1, k_max]]
    if end == "free":
        known[:, 2] = 0.0
        square_root = scipy.linalg.solve_triangular(moving, np.eye(k_max), lower=True)
        mean_map = -square_root @ known
        return square_root, mean_map, 0.0
    _, upper = np.linalg.qr(moving)
    square_root = scipy.linalg.solve_triangular(upper, np.eye(last), lower=False)
    mean_map = -np.linalg.lstsq(moving, known, rcond=None)[0]
    return square_root, mean_map, -float(np.sum(np.log(np.abs(np.diag(upper)))))


def _underdamped(problem):
    square_root, mean_map, log_det = underdamped_system(
        problem.time_slices, problem.time_step, problem.friction, problem.end
    )
    free = list(problem.free)
    start = np.asarray(problem.start, dtype=np.float64)[free]
    end = (
        np.asarray(problem.end_state, dtype=np.float64)[free]
        if problem.end == "fixed"
        else np.zeros(len(free))
    )
    known = np.stack([start, problem.free_initial_velocity, end])
    return jnp.asarray(square_root), jnp.asarray(mean_map @ known), log_det


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
    if problem.end == "periodic":
        full = full.at[:-1, free].set(moving)
        return full.at[-1, free].set(moving[0])
    end = jnp.asarray(problem.end_state)[free]
    full = full.at[1:-1, free].set(moving)
    return full.at[-1, free].set(end)


def moving_slices(problem, path):
    """The slices of the free coordinates that are sampled (inverse of embed)."""
    free = jnp.asarray(problem.free)
    if problem.end == "free":
        return path[1:, free]
    if problem.end == "periodic":
        return path[:-1, free]
    return path[1:-1, free]


def path_from_noise(problem, noise):
    """Map whitened noise of shape :func:`noise_shape` to the full path."""
    scale = problem.step_scale
    if problem.action == "underdamped":
        square_root, mean, _ = _underdamped(problem)
        return embed(problem, mean + scale * (square_root @ noise))
    if problem.end == "periodic":
        basis, eigenvalues = fourier_basis(problem.time_slices)
        factor = np.zeros_like(eigenvalues)
        factor[1:] = 1.0 / np.sqrt(eigenvalues[1:])
        modes = scale * jnp.asarray(factor)[:, None] * noise
        centre = jnp.asarray(problem.start)[jnp.asarray(problem.free)]
        shift = jnp.asarray(zero_mode_scale(problem)) * noise[0]
        return embed(problem, centre + shift + jnp.asarray(basis) @ modes)
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
    if problem.action == "underdamped":
        square_root, mean, _ = _underdamped(problem)
        steps = (moving - mean) / scale
        return jax.scipy.linalg.solve_triangular(
            square_root, steps, lower=problem.end == "free"
        )
    if problem.end == "periodic":
        basis, eigenvalues = fourier_basis(problem.time_slices)
        centre = jnp.asarray(problem.start)[jnp.asarray(problem.free)]
        modes = jnp.asarray(basis).T @ (moving - centre)
        noise = jnp.sqrt(jnp.asarray(eigenvalues))[:, None] * modes / scale
        mean = modes[0] / math.sqrt(problem.time_slices)
        return noise.at[0].set(mean / jnp.asarray(zero_mode_scale(problem)))
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
    j/2K) = \sqrt K`; ``(K - 1) log sigma + log s_0 - log(K)/2`` for a
    periodic path with zero-mode scale :math:`s_0`, since the cyclic
    Laplacian's nonzero eigenvalues multiply to :math:`K^2`; for
    ``underdamped``, ``rows log sigma`` plus the log determinant of
    :func:`underdamped_system` (0 for a free end).
    """
    rows, _ = noise_shape(problem)
    log_scale = jnp.sum(jnp.log(problem.step_scale))
    if problem.action == "underdamped":
        _, _, log_det = underdamped_system(
            problem.time_slices, problem.time_step, problem.friction, problem.end
        )
        return rows * log_scale + len(problem.free) * log_det
    if problem.end == "periodic":
        return (
            (rows - 1) * log_scale
            + jnp.sum(jnp.log(jnp.asarray(zero_mode_scale(problem))))
            - 0.5 * len(problem.free) * math.log(problem.time_slices)
        )
    if problem.end == "free":
        return rows * log_scale
    return rows * log_scale - 0.5 * len(problem.free) * math.log(problem.time_slices)
