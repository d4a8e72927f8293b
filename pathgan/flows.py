"""Classical paths: the gradient flow, the damped flow, minimum-action paths.

Also the instanton of a double well: the minimum-action path of the euclidean
action between its two minima, with the continuum value of its action.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate
import scipy.optimize

from pathgan import potentials, whitening
from pathgan.families import is_reflected
from pathgan.actions import action_fn


def gradient_flow(problem):
    r"""Explicit-Euler gradient flow on the problem's time lattice.

    .. math::

        x_{k+1} = x_k - \frac{dt}{\gamma}\, g^{-1} \nabla V(x_k)

    on the free coordinates, from the start :math:`x_0`; the end condition is
    ignored (the flow is the noise-free training path).

    Returns
    -------
    path
        Array of shape ``(K + 1, n)``.
    """
    free = jnp.asarray(problem.free)
    grad_fn = jax.grad(problem.potential_fn)
    rate = problem.time_step / problem.friction

    def step(x, _):
        x_next = x.at[free].add(-rate * grad_fn(x)[free] / problem.metric)
        return x_next, x_next

    @jax.jit
    def run(start):
        _, rest = jax.lax.scan(step, start, None, length=problem.time_slices)
        return jnp.concatenate([start[None], rest])

    return run(jnp.asarray(problem.start, dtype=jnp.float64))


def damped_flow(problem):
    r"""The noise-free damped dynamics with inertia on the time lattice.

    .. math::

        v_{k+1} = v_k - dt\left(\gamma v_k + g^{-1}\nabla V(x_k)\right),
        \qquad x_{k+1} = x_k + dt\, v_{k+1},

    from the start :math:`x_0` with the problem's initial velocity
    :math:`v_0` (at rest if unset): the semi-implicit Euler discretization of
    the paper's equation of motion :math:`\ddot x + \gamma\dot x +
    g^{-1}\nabla V = 0`, on which the ``underdamped`` action vanishes. The
    end condition is ignored. As :math:`\gamma \to \infty`, with time
    rescaled by :math:`\gamma`, it approaches :func:`gradient_flow`: the gap
    is :math:`O(1/\gamma)` for a generic initial velocity (the inertia of
    :math:`v_0` carries the generator a distance :math:`v_0/\gamma`) and
    :math:`O(1/\gamma^2)` when the generator starts at rest.

    .. warning::
       The velocity update is explicit in the friction: it is stable only for
       :math:`\gamma\,dt < 2`, and accurate for :math:`\gamma\,dt \ll 1`.

    Returns
    -------
    path
        Array of shape ``(K + 1, n)``.
    """
    free = jnp.asarray(problem.free)
    grad_fn = jax.grad(problem.potential_fn)
    dt, friction = problem.time_step, problem.friction

    def step(state, _):
        x, v = state
        v_next = v - dt * (friction * v + grad_fn(x)[free] / problem.metric)
        x_next = x.at[free].add(dt * v_next)
        return (x_next, v_next), x_next

    @jax.jit
    def run(start, velocity):
        _, rest = jax.lax.scan(
            step, (start, velocity), None, length=problem.time_slices
        )
        return jnp.concatenate([start[None], rest])

    return run(
        jnp.asarray(problem.start, dtype=jnp.float64),
        jnp.asarray(problem.free_initial_velocity),
    )


def classical_flow(problem):
    """The noise-free path of the problem's dynamics.

    :func:`damped_flow` for the ``underdamped`` action, :func:`gradient_flow`
    otherwise.
    """
    if problem.action == "underdamped":
        return damped_flow(problem)
    return gradient_flow(problem)


class MinimumActionPath(NamedTuple):
    r"""The minimum-action path and how it was found.

    Attributes
    ----------
    path
        Array of shape ``(K + 1, n)``.
    action
        :math:`S` at the minimum.
    gradient_norm
        The largest entry of :math:`|\partial (S/\varepsilon) / \partial
        \xi|` there, in whitened coordinates.
    iterations
        Optimizer iterations.
    converged
        Whether the optimizer reported success.
    """

    path: np.ndarray
    action: float
    gradient_norm: float
    iterations: int
    converged: bool


def _starting_path(problem, flow):
    if problem.end == "free":
        return flow
    if problem.end == "periodic":
        # A constant path at the flow's end point: near a minimum of V, where
        # the periodic minimum-action path sits.
        return jnp.broadcast_to(flow[-1], flow.shape)
    free = jnp.asarray(problem.free)
    miss = jnp.asarray(problem.end_state)[free] - flow[-1, free]
    fraction = jnp.asarray(problem.times / problem.duration)
    return flow.at[:, free].add(fraction[:, None] * miss)


def minimum_action_path(
    problem, initial_path=None, tolerance=1e-9, max_iterations=5000, flow=None
):
    r"""Minimize the action over the free slices, with the configured ends.

    The search runs in whitened coordinates (:mod:`pathgan.whitening`), where
    the Hessian of :math:`S/\varepsilon` is the identity plus the potential's
    part, with SciPy's L-BFGS-B and exact JAX gradients. It starts from
    ``initial_path``, by default the classical flow (:func:`classical_flow`),
    shifted linearly to meet a fixed end, or, for a periodic path, the
    constant path at the flow's end point. For ``onsager_machlup`` and
    ``underdamped`` with a free end the minimum is the classical flow itself,
    where :math:`S = 0`. Pass the classical flow as ``flow`` if it is already
    computed, to save computing it again.
    """
    action = action_fn(problem)
    if initial_path is None:
        flow = classical_flow(problem) if flow is None else flow
        initial_path = _starting_path(problem, flow)
    shape = whitening.noise_shape(problem)

    def objective(flat):
        noise = flat.reshape(shape)
        return action(whitening.path_from_noise(problem, noise)) / problem.noise_scale

    value_and_grad = jax.jit(jax.value_and_grad(objective))
    to_noise = jax.jit(lambda path: whitening.noise_from_path(problem, path))
    to_path = jax.jit(lambda noise: whitening.path_from_noise(problem, noise))

    def fun(flat):
        value, grad = value_and_grad(jnp.asarray(flat))
        return float(value), np.asarray(grad, dtype=np.float64)

    x0 = np.asarray(to_noise(jnp.asarray(initial_path))).ravel()
    result = scipy.optimize.minimize(
        fun,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iterations, "gtol": tolerance, "ftol": 1e-15},
    )
    path = np.asarray(to_path(jnp.asarray(result.x).reshape(shape)))
    value, grad = fun(result.x)
    return MinimumActionPath(
        path=path,
        action=value * problem.noise_scale,
        gradient_norm=float(np.max(np.abs(grad))) if grad.size else 0.0,
        iterations=int(result.nit),
        converged=bool(result.success) or float(np.max(np.abs(grad))) < 1e-6,
    )


class Instanton(NamedTuple):
    r"""The tunnelling path of a double well and its action.

    Attributes
    ----------
    path
        The minimum-action path, shape ``(K + 1, n)``, from one minimum to the
        other.
    times
        Its lattice times, centred so that :math:`t = 0` is where it crosses
        the barrier.
    action
        Its euclidean action above that of resting in a well,
        :math:`S - T\,V_{min}`.
    continuum_action
        :math:`\sqrt 2 \int_{x_-}^{x_+} \sqrt{V(x) - V_{min}}\,dx`, the
        action of the continuum instanton on an infinite time interval.
    wells
        The two minima :math:`(x_-, x_+)` and the barrier top between them.
    """

    path: np.ndarray
    times: np.ndarray
    action: float
    continuum_action: float
    wells: tuple


def polynomial_wells(coefficients):
    r"""Minima and barrier of the one-variable polynomial :math:`\sum_n c_n x^n`.

    Returns ``(lower, barrier, upper)``: the two outermost real local minima
    and the highest local maximum between them.

    Raises
    ------
    ValueError
        If the polynomial has fewer than two local minima.
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    if coefficients.ndim != 1 or not np.all(np.isfinite(coefficients)):
        raise ValueError(
            f"coefficients = {coefficients.tolist()}: a list of finite numbers needed"
        )
    power = np.polynomial.Polynomial(coefficients)
    slope, curvature = power.deriv(1), power.deriv(2)
    roots = slope.roots()
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    minima = [r for r in real if curvature(r) > 0]
    if len(minima) < 2:
        raise ValueError(
            f"the polynomial with coefficients {list(coefficients)} has "
            f"{len(minima)} local minimum(s); an instanton needs two"
        )
    lower, upper = minima[0], minima[-1]
    maxima = [r for r in real if lower < r < upper and curvature(r) < 0]
    barrier = max(maxima, key=power) if maxima else 0.5 * (lower + upper)
    return float(lower), float(barrier), float(upper)


def instanton(problem, coefficients, coordinate=None):
    r"""The euclidean instanton of a double-well ``polynomial`` potential.

    Minimizes the euclidean action of ``problem``'s lattice (its slices,
    duration and metric) over paths from the lower to the upper minimum of
    :math:`V(x) = \sum_n c_n x^n` in one free chart coordinate, and compares
    the action above :math:`T\,V_{min}` with the continuum value
    :math:`\sqrt{2}\int \sqrt{V - V_{min}}\,dx` (times :math:`\sqrt g`
    for a metric :math:`g`). The two agree up to the lattice error
    :math:`O(dt^2)` and the finite-duration error, which decays like
    :math:`e^{-\omega T}` for the well frequency :math:`\omega`.

    Parameters
    ----------
    problem
        A :class:`pathgan.PathProblem`: its family, lattice and metric are
        used; its potential is replaced by the polynomial in the tunnelling
        coordinate alone (shifted so that the lower minimum is 0, which
        changes no path), and its ends and action by fixed euclidean ones.
    coefficients
        The polynomial's coefficients :math:`(c_0, c_1, \dots)`.
    coordinate
        The chart coordinate that tunnels; default the first free one. The
        others keep their start value. It must not be reflected by the
        family (the gaussian width is: its potential sees :math:`|s|`, so its
        wells are not those of the polynomial on the line).

    Returns
    -------
    Instanton

    Raises
    ------
    ValueError
        If the polynomial has fewer than two minima, or the coordinate is
        reflected by the family.
    """
    coordinate = problem.free[0] if coordinate is None else coordinate
    if coordinate not in problem.free:
        raise ValueError(
            f"coordinate = {coordinate!r}: the index of a free coordinate is "
            f"needed, one of {list(problem.free)}"
        )
    if is_reflected(problem.family, coordinate):
        name = problem.family.coordinate_names[coordinate]
        raise ValueError(
            f"the {problem.family.name} coordinate {name!r} is reflected at 0, so "
            "a polynomial in it has no instanton on the whole line"
        )
    lower, barrier, upper = polynomial_wells(coefficients)
    # The constant term changes nothing but would cost digits: shift V so
    # that its lower minimum is 0, and drop the coordinates that rest.
    shifted = np.asarray(coefficients, dtype=np.float64).copy()
    shifted[0] = 0.0
    power = np.polynomial.Polynomial(shifted)
    bottom = min(power(lower), power(upper))
    shifted[0] = -bottom
    power = np.polynomial.Polynomial(shifted)
    start = np.asarray(problem.start, dtype=np.float64).copy()
    start[coordinate] = lower
    end_state = start.copy()
    end_state[coordinate] = upper
    fixed = problem._replace(
        potential_fn=potentials.polynomial(shifted, problem.family, (coordinate,)),
        action="euclidean",
        end="fixed",
        start=start,
        end_state=end_state,
        free=(coordinate,),
        initial_velocity=None,
    )
    # A tanh kink centred in the window: the shape of the continuum instanton.
    fraction = (fixed.times - 0.5 * fixed.duration) / max(fixed.duration / 8, 1e-12)
    guess = np.broadcast_to(start, (fixed.time_slices + 1, start.size)).copy()
    guess[:, coordinate] = lower + (upper - lower) * 0.5 * (1 + np.tanh(fraction))
    minimum = minimum_action_path(fixed, initial_path=guess)
    action = minimum.action
    metric = float(np.asarray(fixed.metric)[0])
    integral, _ = scipy.integrate.quad(
        lambda x: math.sqrt(max(power(x), 0.0)),
        lower,
        upper,
        points=[barrier],
        epsabs=1e-13,
        epsrel=1e-12,
    )
    path = minimum.path[:, coordinate]
    above = np.nonzero(path >= barrier)[0]
    k = max(int(above[0]), 1) if above.size else fixed.time_slices // 2
    # Linear interpolation between the slices around the barrier.
    share = (barrier - path[k - 1]) / (path[k] - path[k - 1] or 1.0)
    crossing = float(fixed.times[k - 1] + share * fixed.time_step)
    return Instanton(
        path=minimum.path,
        times=fixed.times - crossing,
        action=float(action),
        continuum_action=math.sqrt(2.0 * metric) * integral,
        wells=(lower, barrier, upper),
    )
