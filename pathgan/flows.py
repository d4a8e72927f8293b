"""Classical paths: the gradient flow and the minimum-action path."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from pathgan import whitening
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
    ``initial_path``, by default the gradient flow (shifted linearly to meet a
    fixed end). For ``onsager_machlup`` with a free end the minimum is the
    gradient flow itself, where :math:`S = 0`. Pass the gradient flow as
    ``flow`` if it is already computed, to save computing it again.
    """
    action = action_fn(problem)
    if initial_path is None:
        flow = gradient_flow(problem) if flow is None else flow
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
