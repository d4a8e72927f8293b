r"""The adversarial geometry: discriminator, its potential field, the connection.

For a generator law :math:`P` with density :math:`p` and data density
:math:`p_{data}`,

.. math::

    D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p(x)}, \qquad
    \phi(x) = \log(1 - D^*(x)), \qquad A = \nabla \phi .

:math:`D^*` is the optimal discriminator of the GAN value; :math:`\phi` is the
section whose gradient is the adversarial connection :math:`A`, a velocity
field on the data space. :math:`A` is the Wasserstein gradient of the GAN value
:math:`C(P) = 2\,\mathrm{JSD}(P_{data} \| P) - \log 4` (its first variation is
exactly :math:`\phi`), so the gradient flow :math:`\partial_t p =
\nabla\cdot(p A)` lowers :math:`C` at the rate :math:`\|A\|^2_{L^2(P)}`, and
:math:`A = 0` on the support of :math:`P` if and only if :math:`P = P_{data}`
(the flat-connection theorem).

In a chart of a generator family only the projection of :math:`A` onto the
chart's tangent space moves the generator. :func:`connection` returns both:
the velocity field and its chart components, whose metric norm is the Otto
norm :math:`|A|_g` that the chart's gradient flow dissipates.

Every ratio is formed in log space, so all of this stays finite where both
densities underflow.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from pathgan import potentials


def _log_densities(chart, x, family, target, log_pd_fn=None):
    log_pd_fn = log_pd_fn or potentials.data_log_density_fn(target)
    return log_pd_fn(x), family.log_density_fn(chart, x)


def _field(chart, x, family, target, log_pd_fn=None):
    log_pd, log_p = _log_densities(chart, x, family, target, log_pd_fn)
    return log_p - jnp.logaddexp(log_pd, log_p)


def discriminator(chart, x, family, target):
    r"""The optimal discriminator :math:`D^*(x) = p_{data}/(p_{data} + p)`.

    Parameters
    ----------
    chart
        The generator's chart point, shape ``(n,)``.
    x
        Points of the data space (any shape).
    family
        The generator family.
    target
        The data target, a :class:`pathgan.data.MixtureTarget`.

    Returns
    -------
    Array shaped like ``x``, in :math:`[0, 1]`.
    """
    log_pd, log_p = _log_densities(chart, x, family, target)
    return jnp.exp(log_pd - jnp.logaddexp(log_pd, log_p))


def potential_field(chart, x, family, target):
    r"""The section :math:`\phi(x) = \log(1 - D^*(x)) = \log p - \log(p + p_{data})`.

    :math:`\phi \le 0`; it is :math:`-\log 2` everywhere when
    :math:`P = P_{data}`. Same arguments as :func:`discriminator`.
    """
    return _field(chart, x, family, target)


class Connection(NamedTuple):
    r"""The adversarial connection at one generator law.

    Attributes
    ----------
    velocity_fn
        ``velocity_fn(x) -> A(x)``: the velocity field :math:`A = \nabla\phi`
        at points ``x`` (any shape).
    tangent
        Its chart components :math:`a`, shape ``(n,)``: the projection of
        :math:`A` onto the chart's tangent space in :math:`L^2(P)`,
        :math:`a_j = g_j^{-1} E_P[A \cdot \partial_j T]`. Equivalently
        :math:`a = g^{-1} \nabla_x C`, the chart gradient of the GAN value.
    norm
        The Otto norm of the tangent, :math:`|A|_g = (\sum_j g_j a_j^2)^{1/2}`;
        the chart's gradient flow lowers :math:`C` at the rate
        :math:`|A|_g^2`.
    velocity_norm
        The norm of the whole field, :math:`\|A\|_{L^2(P)} = E_P[|A|^2]^{1/2}
        \ge |A|_g`; the rate of the unconstrained Wasserstein gradient flow.
    """

    velocity_fn: Callable
    tangent: jnp.ndarray
    norm: jnp.ndarray
    velocity_norm: jnp.ndarray


def connection(chart, family, target, quadrature=None):
    r"""The adversarial connection :math:`A = \nabla \log(1 - D^*)` at a chart point.

    Expectations over :math:`P` use the grid that the family's transport
    carries with the generator (:func:`pathgan.potentials.expectations`); the
    velocity field is differentiated exactly by JAX.

    Parameters
    ----------
    chart
        The generator's chart point, shape ``(n,)``.
    family
        The generator family.
    target
        The data target.
    quadrature
        A :class:`pathgan.potentials.GanQuadrature`; built from the target
        if ``None``.

    Returns
    -------
    Connection
        The velocity field, its chart components and both norms.

    .. warning::
       A degenerate law (width 0) or a non-finite chart gives NaN, as JAX
       arithmetic does, rather than an error, so that the function can be
       traced; check the chart first where it comes from user input.

    Examples
    --------
    At :math:`P = P_{data}` the connection is flat:

    >>> import numpy as np
    >>> from pathgan import data, families, geometry
    >>> target = data.gaussian_mixture([0.0], [1.0], [1.0])
    >>> flat = geometry.connection(np.array([0.0, 1.0]), families.GAUSSIAN, target)
    >>> bool(flat.norm < 1e-12)
    True
    """
    chart = jnp.asarray(chart, dtype=jnp.float64)
    size = len(family.coordinate_names)
    if chart.shape != (size,):
        raise ValueError(
            f"chart of shape {chart.shape}: the {family.name} family has "
            f"{size} coordinates {family.coordinate_names}"
        )
    quad = quadrature or potentials.gan_quadrature(target)
    log_pd_fn = potentials.data_log_density_fn(target)
    slope = jax.grad(lambda x: _field(chart, x, family, target, log_pd_fn))

    def velocity_fn(x):
        x = jnp.asarray(x, dtype=jnp.float64)
        return jax.vmap(slope)(x.ravel()).reshape(x.shape)

    nodes = jnp.asarray(quad.generator_nodes)
    weights = jnp.asarray(quad.generator_weights)
    points = family.transport_fn(chart, nodes)
    velocity = velocity_fn(points)
    # d T(z) / d chart_j: the velocity field of chart direction j at each node.
    directions = jax.jacfwd(family.transport_fn)(chart, nodes)
    metric = family.metric_fn(chart)
    tangent = jnp.sum(weights[:, None] * velocity[:, None] * directions, axis=0)
    tangent = tangent / metric
    return Connection(
        velocity_fn=velocity_fn,
        tangent=tangent,
        norm=jnp.sqrt(jnp.sum(metric * tangent**2)),
        velocity_norm=jnp.sqrt(jnp.sum(weights * velocity**2)),
    )


def otto_norm(chart, family, target, quadrature=None):
    r"""The Otto norm :math:`|A|_g` of the connection's chart components.

    Zero exactly when the chart gradient of the GAN value vanishes; for a
    data target inside the family, only at :math:`P = P_{data}`.
    """
    return connection(chart, family, target, quadrature).norm
