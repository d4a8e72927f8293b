r"""Generator families: charts of the Wasserstein-2 space with a known metric.

A family maps chart coordinates to a law :math:`P_x` and supplies the metric
:math:`g` of :math:`W_2` in that chart, so that the kinetic term of an action
is exact.
"""

import math
from typing import Callable, NamedTuple

import jax.numpy as jnp


class Family(NamedTuple):
    r"""A chart of :math:`W_2`.

    Attributes
    ----------
    name
        The family's name in configs.
    coordinate_names
        Names of the chart coordinates, in order.
    metric_fn
        ``metric_fn(chart) -> (n,)``: the diagonal of the metric tensor.
    canonical_fn
        ``canonical_fn(chart) -> (n,)``: the representative of the law with
        the family's symmetries divided out (for ``gaussian``: width >= 0).
    log_density_fn
        ``log_density_fn(chart, x) -> log p_x(x)`` for points ``x``.
    transport_fn
        ``transport_fn(chart, z) -> x``: a map that pushes the family's
        reference law forward to :math:`P_x` (for ``gaussian``: the standard
        normal, :math:`x = m + s z`). Its chart derivative
        :math:`\partial_j T` is the velocity field of the chart direction
        :math:`j`, which is how a chart vector becomes a tangent vector of
        :math:`W_2`.
    transported_log_density_fn
        ``transported_log_density_fn(chart, z) -> log p_x(T(chart, z))``: the
        log density at transported reference points by the change of
        variables, :math:`\log q(z) - \log|\partial_z T|` for the
        reference density :math:`q`, exact in every tail.
    """

    name: str
    coordinate_names: tuple
    metric_fn: Callable
    canonical_fn: Callable
    log_density_fn: Callable
    transport_fn: Callable
    transported_log_density_fn: Callable


def _gaussian_canonical(chart):
    return jnp.stack([chart[..., 0], jnp.abs(chart[..., 1])], axis=-1)


def _gaussian_log_density(chart, x):
    mean, width = chart[0], jnp.abs(chart[1])
    z = (x - mean) / width
    return -0.5 * z**2 - jnp.log(width) - 0.5 * math.log(2 * math.pi)


GAUSSIAN = Family(
    name="gaussian",
    coordinate_names=("mean", "width"),
    metric_fn=lambda chart: jnp.ones(2),
    canonical_fn=_gaussian_canonical,
    log_density_fn=_gaussian_log_density,
    transport_fn=lambda chart, z: chart[0] + chart[1] * z,
    transported_log_density_fn=lambda chart, z: (
        -0.5 * z**2 - 0.5 * math.log(2 * math.pi) - jnp.log(jnp.abs(chart[1]))
    ),
)
"""Gaussian laws :math:`N(m, s^2)` on the line, chart :math:`(m, s)`.

:math:`W_2^2(N(m, s^2), N(m', s'^2)) = (m - m')^2 + (s - s')^2`, so the metric
is flat: the chart directions move points by the velocity fields :math:`1`
and :math:`z = (x - m)/s`, which are orthonormal in :math:`L^2(P)`. The width
lives on the closed half-line: :math:`N(m, s^2) = N(m, (-s)^2)`, so a path
through :math:`s = 0` is reflected there and densities and potentials use
:math:`|s|`.
"""

FAMILIES = {"gaussian": GAUSSIAN}


def is_reflected(family, coordinate):
    """Whether the family folds ``coordinate`` at 0 (the gaussian width does).

    A reflected coordinate is recorded by its absolute value, and a function of
    it sees only that.
    """
    probe = jnp.ones(len(family.coordinate_names)).at[coordinate].set(-1.0)
    return bool(family.canonical_fn(probe)[coordinate] != -1.0)


def get_family(name):
    """The family called ``name``."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(
            f"unknown generator family {name!r}; allowed: {sorted(FAMILIES)}"
        ) from None
