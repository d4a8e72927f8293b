"""Observables of a path ensemble."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np


def action_statistics(actions, noise_scale):
    r"""Mean action and specific heat :math:`\mathrm{Var}(S)/\varepsilon^2`.

    ``actions`` holds one action per draw (any shape). The specific heat is
    the fluctuation of the action in units of the noise scale; for a quadratic
    action with ``n`` sampled coordinates it is ``n / 2``.
    """
    actions = np.asarray(actions, dtype=np.float64).ravel()
    # Var(S / eps) rather than Var(S) / eps^2: S/eps is of order one per
    # coordinate, so this neither overflows nor underflows at extreme eps.
    return {
        "action_mean": float(actions.mean()),
        "action_std": float(actions.std(ddof=1)),
        "specific_heat": float(np.var(actions / noise_scale, ddof=1)),
    }


def barrier_location(potential_fn, start, end, coordinate, num_points=801):
    """Where V peaks on the straight line between two chart points.

    Returns the value of ``coordinate`` at the maximum of V along the segment;
    that is the saddle a hop between the wells at ``start`` and ``end`` has to
    cross when only this coordinate moves.
    """
    fractions = np.linspace(0.0, 1.0, num_points)
    points = (
        np.asarray(start)[None]
        + fractions[:, None] * (np.asarray(end) - np.asarray(start))[None]
    )
    values = np.asarray(jax.vmap(potential_fn)(jnp.asarray(points)))
    return float(points[int(np.argmax(values)), coordinate])


def hop_times(paths, times, barrier):
    """First time each path crosses ``barrier``, linearly interpolated.

    Parameters
    ----------
    paths
        Array ``(..., K + 1)`` of one coordinate along each path.
    times
        The lattice times.
    barrier
        The crossing level.

    Returns
    -------
    times
        Array ``(...)``; ``nan`` for a path that never crosses.
    """
    paths = np.asarray(paths, dtype=np.float64)
    side = np.sign(paths - barrier)
    crossed = side != side[..., :1]
    first = np.argmax(crossed, axis=-1)
    never = ~crossed.any(axis=-1)
    first = np.where(never, 1, first)
    before = np.take_along_axis(paths, (first - 1)[..., None], axis=-1)[..., 0]
    after = np.take_along_axis(paths, first[..., None], axis=-1)[..., 0]
    step = np.where(never, 1.0, after - before)
    fraction = (barrier - before) / step
    result = times[first - 1] + fraction * (times[1] - times[0])
    return np.where(never, np.nan, result)


def crossing_counts(paths, barrier):
    r"""Number of times each path crosses ``barrier``.

    On a periodic path the crossings pair up (an instanton and an
    anti-instanton), so the count is even; in a dilute instanton gas its mean
    grows like :math:`T e^{-S_{inst}/\varepsilon}`. A slice exactly at the
    barrier counts with the side it leaves from.

    Parameters
    ----------
    paths
        Array ``(..., K + 1)`` of one coordinate along each path.
    barrier
        The crossing level.

    Returns
    -------
    counts
        Integer array ``(...)``.
    """
    above = np.asarray(paths, dtype=np.float64) >= barrier
    return np.sum(above[..., 1:] != above[..., :-1], axis=-1)


def transfer_kernel_marginal(problem, grid):
    r"""The exact one-slice law of a periodic euclidean path of one coordinate.

    For a periodic path the weight is :math:`\mathrm{Tr}\,T^K` of the transfer
    kernel

    .. math::

        T(x, y) = \sqrt{\frac{g}{2\pi\varepsilon\,dt}}
        \exp\Big(-\frac{g (x - y)^2}{2\varepsilon\,dt}
        - \frac{dt\,(V(x) + V(y))}{2\varepsilon}\Big),

    and every slice has the law :math:`p(x) = T^K(x, x) / \mathrm{Tr}\,T^K`.
    The kernel is discretized on ``grid`` (uniform; its spacing should be well
    below the kernel's width :math:`(\varepsilon\,dt/g)^{1/2}`, and it should
    cover the law) and diagonalized.

    Parameters
    ----------
    problem
        A :class:`pathgan.PathProblem` with action ``euclidean``, end
        ``periodic`` and one free coordinate.
    grid
        Uniformly spaced values of the free coordinate.

    Returns
    -------
    density
        :math:`p` at ``grid``, normalized on it. A ``RuntimeWarning`` says
        when the law reaches the grid's edges.

    Raises
    ------
    ValueError
        For another end condition or action, several free coordinates, or a
        grid that is not finite, increasing and uniform.
    """
    if problem.end != "periodic" or problem.action != "euclidean":
        raise ValueError("the transfer kernel marginal is for periodic euclidean paths")
    if len(problem.free) != 1:
        raise ValueError("the transfer kernel marginal needs one free coordinate")
    grid = np.asarray(grid, dtype=np.float64)
    steps = np.diff(grid) if grid.ndim == 1 else np.array([])
    if (
        grid.ndim != 1
        or grid.size < 3
        or not np.all(np.isfinite(grid))
        or not np.all(steps > 0)
        or not np.allclose(steps, steps[0], rtol=1e-6)
    ):
        raise ValueError(
            "grid: at least 3 finite, increasing, uniformly spaced values needed"
        )
    step = steps[0]
    charts = np.broadcast_to(np.asarray(problem.start), (grid.size, len(problem.start)))
    charts = charts.copy()
    charts[:, problem.free[0]] = grid
    values = np.asarray(jax.vmap(problem.potential_fn)(jnp.asarray(charts)))
    metric = float(np.asarray(problem.metric)[0])
    eps, dt = problem.noise_scale, problem.time_step
    kernel = (
        step
        * np.sqrt(metric / (2 * np.pi * eps * dt))
        * np.exp(
            -metric * (grid[:, None] - grid[None, :]) ** 2 / (2 * eps * dt)
            - dt * (values[:, None] + values[None, :]) / (2 * eps)
        )
    )
    eigenvalues, vectors = np.linalg.eigh(kernel)
    # Scaled by the largest eigenvalue so that the K-th powers do not underflow.
    powers = np.clip(eigenvalues / eigenvalues.max(), 0.0, None) ** problem.time_slices
    diagonal = (vectors**2) @ powers
    density = diagonal / (diagonal.sum() * step)
    edge = max(density[0], density[-1]) / density.max()
    if not np.isfinite(edge) or edge > 1e-6:
        warnings.warn(
            f"the law is not contained in the grid [{grid[0]:.4g}, {grid[-1]:.4g}] "
            f"(density at its edges {edge:.2g} of the peak): widen the grid, or "
            "the potential does not confine the path",
            RuntimeWarning,
            stacklevel=2,
        )
    return density
