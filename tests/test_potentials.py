"""The GAN value and the polynomial potential against exact statements."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import trapezoid

from pathgan import data, families, potentials

GAUSSIAN = families.GAUSSIAN


def test_gan_value_is_minus_log_four_at_the_data_law():
    target = data.gaussian_mixture([0.5], [1.2], [1.0])
    value = potentials.gan(target, GAUSSIAN)(jnp.array([0.5, 1.2]))
    assert float(value) == pytest.approx(-math.log(4.0), abs=1e-10)


def test_gan_value_and_gradient_stay_finite_far_from_the_data(faithful_target):
    potential = potentials.gan(faithful_target, GAUSSIAN)
    for chart in ([40.0, 0.3], [-1e3, 0.05], [2.0, 30.0]):
        value = potential(jnp.array(chart))
        grad = jax.grad(potential)(jnp.array(chart))
        assert np.isfinite(float(value)) and np.all(np.isfinite(np.asarray(grad)))
    # Disjoint supports: C -> 2 log 2 - log 4 = 0, and the gradient vanishes.
    assert float(potential(jnp.array([40.0, 0.3]))) == pytest.approx(0.0, abs=1e-12)


def test_gan_value_converges_under_quadrature_refinement(faithful_target):
    fine = potentials.gan(
        faithful_target,
        GAUSSIAN,
        potentials.gan_quadrature(faithful_target, 8192, 1601),
    )
    default = potentials.gan(faithful_target, GAUSSIAN)
    for chart in ([-1.3, 0.3], [0.0, 1.0], [0.8, 0.07], [0.3, 2.0]):
        chart = jnp.array(chart)
        assert float(default(chart)) == pytest.approx(float(fine(chart)), abs=1e-8)
        np.testing.assert_allclose(
            jax.grad(default)(chart), jax.grad(fine)(chart), atol=2e-7
        )


def test_gan_value_equals_jensen_shannon_by_independent_quadrature(faithful_target):
    # 2 JSD - log 4 by SciPy's trapezoid on a dense grid with the exact mixture.
    x = np.linspace(-8.0, 8.0, 40001)
    log_pd = np.asarray(data.log_density(faithful_target, x))
    mean, width = -0.7, 0.6
    log_pg = -0.5 * ((x - mean) / width) ** 2 - math.log(width * math.sqrt(2 * math.pi))
    log_m = np.logaddexp(log_pd, log_pg)
    integrand = np.exp(log_pd) * (log_pd - log_m) + np.exp(log_pg) * (log_pg - log_m)
    expected = trapezoid(integrand, x)
    value = potentials.gan(faithful_target, GAUSSIAN)(jnp.array([mean, width]))
    assert float(value) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("chart", [(-1.3, 0.3), (0.4, 0.8), (1.5, 1.7)])
def test_gan_gradient_is_the_connection_paired_with_the_velocity(
    faithful_target, chart
):
    # dC/dtheta = E_P[ d/dx log(P/(P + P_data)) * v_theta(x) ] with the velocity
    # fields v_mean = 1 and v_width = (x - mean) / width of the Gaussian chart.
    mean, width = chart
    potential = potentials.gan(faithful_target, GAUSSIAN)
    grad = np.asarray(jax.grad(potential)(jnp.array(chart)))

    def phi(x):
        log_pg = GAUSSIAN.log_density_fn(jnp.array(chart), x)
        return log_pg - jnp.logaddexp(data.log_density(faithful_target, x), log_pg)

    x = np.linspace(mean - 10 * width, mean + 10 * width, 20001)
    connection = np.asarray(jax.vmap(jax.grad(phi))(jnp.asarray(x)))
    density = np.exp(np.asarray(GAUSSIAN.log_density_fn(jnp.array(chart), x)))
    along_mean = trapezoid(density * connection, x)
    along_width = trapezoid(density * connection * (x - mean) / width, x)
    np.testing.assert_allclose(grad, [along_mean, along_width], atol=1e-7)


def test_tabulated_log_density_matches_the_exact_mixture(faithful_target):
    table = potentials.log_density_table(faithful_target)
    inside = jnp.linspace(-4.0, 4.0, 1001)
    np.testing.assert_allclose(
        potentials.tabulated_log_density(table, inside),
        data.log_density(faithful_target, inside),
        atol=1e-9,
    )
    far = jnp.array([-1e4, -50.0, 60.0, 1e5])
    assert np.all(np.isfinite(np.asarray(potentials.tabulated_log_density(table, far))))


def test_polynomial_is_separable_over_free_canonical_coordinates():
    potential = potentials.polynomial([1.0, -2.0, 0.5], GAUSSIAN, (0, 1))
    value = potential(jnp.array([3.0, -2.0]))
    expected = (1 - 6 + 4.5) + (1 - 4 + 2.0)  # the width enters as |width| = 2
    assert float(value) == pytest.approx(expected)
    only_mean = potentials.polynomial([0.0, 0.0, 1.0], GAUSSIAN, (0,))
    assert float(only_mean(jnp.array([3.0, 5.0]))) == pytest.approx(9.0)
