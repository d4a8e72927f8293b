r"""Potentials :math:`V` on a chart: the functional the training path descends.

``gan`` is the GAN value :math:`C(P) = \max_D V(D, P) = 2\,\mathrm{JSD}(P_{data}
\| P) - \log 4`, whose Wasserstein gradient is the adversarial connection.
``seed_loss`` is the functional :math:`J'(P) = E_P[\log(1 - D^*)]` as it is
written in the Lagrangian of Yoshida (2025); its gradient is not the
connection (see :mod:`pathgan.geometry`). ``kl`` and ``reverse_kl`` are the
two Kullback–Leibler divergences. ``polynomial`` is a separable polynomial in
the chart coordinates, for exact checks. Every density ratio is formed in log
space (``logaddexp``), so V and its gradient stay finite when the generator
sits far from the data.
"""

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import logsumexp as np_logsumexp

from pathgan import data as data_module

POTENTIALS = ("gan", "seed_loss", "kl", "reverse_kl", "polynomial")

#: The potentials that are functionals of the generator's law and a data target.
DATA_POTENTIALS = ("gan", "seed_loss", "kl", "reverse_kl")

#: A mixture with more components than this is tabulated (cubic Hermite).
MAX_EXACT_COMPONENTS = 64


def polynomial(coefficients, family, free):
    r""":math:`V(x) = \sum_{j \in free} \sum_n c_n x_j^n` on canonical coordinates.

    Parameters
    ----------
    coefficients
        :math:`(c_0, c_1, \dots)`, the same polynomial in every free
        coordinate.
    family
        The generator family; the polynomial is evaluated on its canonical
        coordinates (the absolute width for ``gaussian``), so that it respects
        the family's reflection.
    free
        Indices of the free chart coordinates.

    Returns
    -------
    potential_fn
        ``potential_fn(chart) -> V``.
    """
    powers = jnp.asarray(coefficients, dtype=jnp.float64)
    index = jnp.asarray(free)

    def potential_fn(chart):
        x = family.canonical_fn(chart)[index]
        return jnp.sum(jnp.polyval(powers[::-1], x))

    return potential_fn


class LogDensityTable(NamedTuple):
    """Values and first derivatives of a log density on a uniform grid."""

    lower: float
    step: float
    values: jnp.ndarray
    slopes: jnp.ndarray
    curvature_lower: float
    curvature_upper: float


def _mixture_derivatives(target, x):
    """Exact log density and its first two derivatives, in NumPy."""
    z = (x[:, None] - target.centers) / target.widths
    log_components = (
        np.log(target.weights)
        - 0.5 * z**2
        - np.log(target.widths)
        - 0.5 * math.log(2 * math.pi)
    )
    value = np_logsumexp(log_components, axis=1)
    resp = np.exp(log_components - value[:, None])
    score = -z / target.widths
    slope = np.sum(resp * score, axis=1)
    curvature = np.sum(resp * (score**2 - target.widths**-2.0), axis=1) - slope**2
    return value, slope, curvature


def log_density_table(target, num_points=4096, margin=12.0):
    r"""Tabulate ``log p_data`` for cheap evaluation at moving points.

    The grid spans the components' centres widened by ``margin`` times the
    largest width. Values and slopes are exact at the nodes; between them a
    cubic Hermite interpolant is used (error :math:`O(\delta^4 \partial^4
    \log p)`, about 1e-11 for the Old Faithful density), beyond them the
    second-order Taylor expansion at the edge, which keeps the tails
    Gaussian.
    """
    lower = float(target.centers.min() - margin * target.widths.max())
    upper = float(target.centers.max() + margin * target.widths.max())
    grid = np.linspace(lower, upper, num_points)
    values, slopes, curvatures = _mixture_derivatives(target, grid)
    return LogDensityTable(
        lower,
        grid[1] - grid[0],
        jnp.asarray(values),
        jnp.asarray(slopes),
        float(curvatures[0]),
        float(curvatures[-1]),
    )


def tabulated_log_density(table, x):
    """Evaluate a :class:`LogDensityTable` at points ``x``."""
    n = table.values.shape[0]
    upper = table.lower + (n - 1) * table.step
    u = (x - table.lower) / table.step
    i = jnp.clip(jnp.floor(u), 0, n - 2).astype(jnp.int32)
    t = jnp.clip(u - i, 0.0, 1.0)
    f0, f1 = table.values[i], table.values[i + 1]
    d0, d1 = table.slopes[i] * table.step, table.slopes[i + 1] * table.step
    t2, t3 = t * t, t * t * t
    inside = (
        (2 * t3 - 3 * t2 + 1) * f0
        + (t3 - 2 * t2 + t) * d0
        + (-2 * t3 + 3 * t2) * f1
        + (t3 - t2) * d1
    )
    below = x - table.lower
    above = x - upper
    left = (
        table.values[0]
        + table.slopes[0] * below
        + 0.5 * table.curvature_lower * below**2
    )
    right = (
        table.values[-1]
        + table.slopes[-1] * above
        + 0.5 * table.curvature_upper * above**2
    )
    return jnp.where(below < 0, left, jnp.where(above > 0, right, inside))


def data_log_density_fn(target):
    """``log p_data`` as a JAX function: exact for small mixtures, tabulated else."""
    if target.centers.size <= MAX_EXACT_COMPONENTS:
        return lambda x: data_module.log_density(target, x)
    table = log_density_table(target)
    return lambda x: tabulated_log_density(table, x)


class GanQuadrature(NamedTuple):
    r"""Quadrature rules for the GAN value.

    Attributes
    ----------
    data_points, data_weights
        A fixed uniform grid over the data's support and trapezoid weights
        times ``p_data`` there: :math:`E_{data}[f] \approx \sum_i q_i f(x_i)`.
    data_log_density
        ``log p_data`` on that grid.
    generator_nodes, generator_weights
        Standard-normal nodes :math:`z_j` on [-9, 9] and trapezoid weights
        times the normal density: :math:`E_P[f] \approx \sum_j r_j f(m + s
        z_j)` for :math:`P = N(m, s^2)`.
    """

    data_points: np.ndarray
    data_weights: np.ndarray
    data_log_density: np.ndarray
    generator_nodes: np.ndarray
    generator_weights: np.ndarray


def gan_quadrature(target, num_data_points=512, num_generator_points=201):
    """Build the quadrature rules of :func:`gan` for a data target.

    .. warning::
       The data grid has spacing ``(data span + 16 widths) / num_data_points``;
       a generator narrower than about four spacings is under-resolved there
       (for Old Faithful, standardized: widths below about 0.06). The
       generator grid has spacing 0.09 in standard units; data features
       narrower than about 0.15 generator widths are under-resolved there.
       With the defaults the Old Faithful value is accurate to about 1e-9.
    """
    lower = float(np.min(target.centers - 8 * target.widths))
    upper = float(np.max(target.centers + 8 * target.widths))
    points = np.linspace(lower, upper, num_data_points)
    trapezoid = np.full(num_data_points, points[1] - points[0])
    trapezoid[[0, -1]] *= 0.5
    # Eagerly, so that the rules can be built while a caller is being traced.
    with jax.ensure_compile_time_eval():
        log_p = np.asarray(data_module.log_density(target, points))
    nodes = np.linspace(-9.0, 9.0, num_generator_points)
    normal = np.exp(-0.5 * nodes**2) / math.sqrt(2 * math.pi)
    node_weights = np.full(num_generator_points, nodes[1] - nodes[0]) * normal
    node_weights[[0, -1]] *= 0.5
    return GanQuadrature(points, trapezoid * np.exp(log_p), log_p, nodes, node_weights)


class Expectations(NamedTuple):
    r"""Quadrature for :math:`E_{data}[f]` and :math:`E_P[f]` on a chart.

    Attributes
    ----------
    under_data
        ``under_data(chart) -> (weights, log_p_data, log_p)``: the fixed data
        grid's weights :math:`q_i` (with :math:`E_{data}[f] \approx \sum_i
        q_i f(x_i)`) and both log densities at its points.
    under_generator
        ``under_generator(chart) -> (weights, log_p_data, log_p, points)``:
        the same on the grid that the family's transport carries with the
        generator, :math:`x_j = T_{chart}(z_j)` (of the canonical chart), where
        :math:`\log p(x_j)` comes from the family's change of variables
        (``transported_log_density_fn``).
    """

    under_data: Callable
    under_generator: Callable


def expectations(target, family, quadrature=None):
    """The quadrature rules of every data potential, for one target and family."""
    quad = quadrature or gan_quadrature(target)
    log_pd_fn = data_log_density_fn(target)
    data_points = jnp.asarray(quad.data_points)
    data_weights = jnp.asarray(quad.data_weights)
    data_log_p = jnp.asarray(quad.data_log_density)
    nodes = jnp.asarray(quad.generator_nodes)
    node_weights = jnp.asarray(quad.generator_weights)

    def under_data(chart):
        return data_weights, data_log_p, family.log_density_fn(chart, data_points)

    def under_generator(chart):
        # Potentials see the canonical chart (for gaussian: |width|), and the
        # generator's log density at its own transported nodes follows from
        # the change of variables, which holds in every tail.
        canonical = family.canonical_fn(chart)
        moving = family.transport_fn(canonical, nodes)
        return (
            node_weights,
            log_pd_fn(moving),
            family.transported_log_density_fn(canonical, nodes),
            moving,
        )

    return Expectations(under_data, under_generator)


def _check_family(kind, family):
    if family.name != "gaussian":
        raise NotImplementedError(
            f"the {kind} potential is not available for family {family.name!r}"
        )


def gan(target, family, quadrature=None):
    r"""The GAN value :math:`C(P) = 2\,\mathrm{JSD}(P_{data} \| P) - \log 4`.

    .. math::

        C(P) = E_{data}[\log D^*] + E_P[\log(1 - D^*)], \qquad
        D^* = \frac{p_{data}}{p_{data} + p}

    The first expectation is a trapezoid rule on a fixed grid over the data,
    the second one on a grid that moves with the generator; both log ratios
    use ``logaddexp``. :math:`C \in [-\log 4, 0]`: it is :math:`-\log 4` at
    :math:`P = P_{data}` and tends to 0 as the supports separate. Its first
    variation is :math:`\delta C/\delta p = \log(1 - D^*)`, so its
    Wasserstein gradient is the adversarial connection.

    Parameters
    ----------
    target
        A :class:`pathgan.data.MixtureTarget`.
    family
        The generator family (``gaussian``).
    quadrature
        A :class:`GanQuadrature`; built from the target if ``None``.

    References
    ----------
    I. Goodfellow et al., "Generative adversarial nets", NeurIPS 2014.
    """
    _check_family("gan", family)
    rules = expectations(target, family, quadrature)

    def potential_fn(chart):
        weights, log_pd, log_p = rules.under_data(chart)
        data_term = jnp.sum(weights * (log_pd - jnp.logaddexp(log_pd, log_p)))
        weights, log_pd, log_p, _ = rules.under_generator(chart)
        generator_term = jnp.sum(weights * (log_p - jnp.logaddexp(log_pd, log_p)))
        return data_term + generator_term

    return potential_fn


def seed_loss(target, family, quadrature=None):
    r"""The functional :math:`J'(P) = E_P[\log(1 - D^*)]` as the paper writes it.

    This is the generator's half of the GAN value with the optimal
    discriminator inserted. Unlike :func:`gan` its first variation is
    :math:`\log(1 - D^*) + D^*`, so its Wasserstein gradient is the
    connection plus :math:`\nabla D^*`: the two agree only where the
    connection vanishes. Offered for comparison with :func:`gan`.

    References
    ----------
    H. Yoshida,
    「生成敵対的ネットワークの ゲージ理論、作用原理、量子化による幾何学的描像」
    ("A geometric picture of generative adversarial networks through gauge
    theory, the action principle and quantization"), 26 September 2025.
    """
    _check_family("seed_loss", family)
    rules = expectations(target, family, quadrature)

    def potential_fn(chart):
        weights, log_pd, log_p, _ = rules.under_generator(chart)
        return jnp.sum(weights * (log_p - jnp.logaddexp(log_pd, log_p)))

    return potential_fn


def kl(target, family, quadrature=None):
    r""":math:`\mathrm{KL}(P_{data} \| P) = E_{data}[\log p_{data} - \log p]`.

    The maximum-likelihood direction: it punishes a generator that misses
    data mass, so its flow spreads the generator over every mode. The
    expectation is the fixed data grid of :func:`gan_quadrature`.
    """
    _check_family("kl", family)
    rules = expectations(target, family, quadrature)

    def potential_fn(chart):
        weights, log_pd, log_p = rules.under_data(chart)
        return jnp.sum(weights * (log_pd - log_p))

    return potential_fn


def reverse_kl(target, family, quadrature=None):
    r""":math:`\mathrm{KL}(P \| P_{data}) = E_P[\log p - \log p_{data}]`.

    The mode-seeking direction: it punishes generator mass where the data
    have none, so its flow can settle on one mode. The expectation is the grid
    that moves with the generator.
    """
    _check_family("reverse_kl", family)
    rules = expectations(target, family, quadrature)

    def potential_fn(chart):
        weights, log_pd, log_p, _ = rules.under_generator(chart)
        return jnp.sum(weights * (log_p - log_pd))

    return potential_fn


def data_potential(kind, target, family, quadrature=None):
    """The data potential called ``kind`` (one of :data:`DATA_POTENTIALS`)."""
    builders = {"gan": gan, "seed_loss": seed_loss, "kl": kl, "reverse_kl": reverse_kl}
    if kind not in builders:
        raise ValueError(f"unknown potential {kind!r}; allowed: {DATA_POTENTIALS}")
    return builders[kind](target, family, quadrature)
