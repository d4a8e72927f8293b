"""Periodic paths against exact lattice oracles.

The euclidean action on a periodic lattice is the thermal trace Tr T^K of its
transfer kernel. Two oracles: the harmonic oscillator's closed form, and, for a
tilted double well, the trace computed here by diagonalizing the kernel on a
fine grid. Estimates are compared with the oracles in units of their Monte
Carlo standard error (ArviZ, autocorrelation-aware); 5 standard errors keeps
the false-alarm chance per comparison near 1e-6.
"""

import math

import arviz as az
import jax
import numpy as np
import pytest
import xarray as xr

from conftest import periodic_oscillator
from pathgan import families
from pathgan.observables import transfer_kernel_marginal
from pathgan.potentials import polynomial
from pathgan.problem import PathProblem
from pathgan.sampling import diagnostics, moving_entries, sample_paths

Z_BOUND = 5.0


def _problem(coefficients, time_slices, duration, start=0.0, noise_scale=1.0):
    return PathProblem(
        family=families.GAUSSIAN,
        potential_fn=polynomial(coefficients, families.GAUSSIAN, (0,)),
        start=np.array([start, 1.0]),
        free=(0,),
        action="euclidean",
        noise_scale=noise_scale,
        duration=duration,
        time_slices=time_slices,
        end="periodic",
    )


def _z_score(series, exact):
    """(mean - exact) / MCSE for one scalar per draw, shape (chain, draw)."""
    dataset = xr.Dataset({"v": (("chain", "draw"), series)})
    return (series.mean() - exact) / float(az.mcse(dataset)["v"])


def _slice_average(problem, idata, power):
    x = moving_entries(problem, idata).sel(coordinate="mean").values
    return (x**power).mean(axis=-1)


def transfer_kernel_moments(coefficients, time_slices, duration, noise_scale):
    """<x> and <x^2> of the periodic euclidean chain by its transfer kernel.

    T(x, y) = (2 pi eps dt)^(-1/2) exp(-(x - y)^2 / (2 eps dt)
    - dt (V(x) + V(y)) / (2 eps)), discretized on a uniform grid of spacing
    h well below 0.7 sqrt(eps dt) (the kernel's width), so that the trace
    Tr(X T^K) / Tr(T^K) is exact to plotting accuracy and beyond.
    """
    dt = duration / time_slices
    h = 0.05 * math.sqrt(noise_scale * dt)
    x = np.arange(-6.0, 6.0 + h / 2, h)
    v = np.polynomial.Polynomial(coefficients)(x)
    kernel = (
        h
        / math.sqrt(2 * math.pi * noise_scale * dt)
        * np.exp(
            -((x[:, None] - x[None, :]) ** 2) / (2 * noise_scale * dt)
            - dt * (v[:, None] + v[None, :]) / (2 * noise_scale)
        )
    )
    values, vectors = np.linalg.eigh(kernel)
    top = values.max()
    diagonal = (vectors**2) @ (values / top) ** time_slices
    weights = diagonal / diagonal.sum()
    return float(weights @ x), float(weights @ x**2)


@pytest.mark.slow
def test_periodic_harmonic_oscillator_second_moment():
    # <x^2> = (1 + R^K) / ((1 - R^K) 2 w sqrt(1 + a^2 w^2 / 4)), eps = 1.
    k, duration, omega = 16, 4.0, 1.0
    problem = _problem([0.0, 0.0, 0.5 * omega**2], k, duration, start=0.2)
    idata = sample_paths(
        problem, jax.random.PRNGKey(7), num_chains=4, num_warmup=400, num_samples=1500
    )
    diag = diagnostics(problem, idata)
    assert diag["divergences"] == 0 and diag["rhat_max"] < 1.02
    exact, _ = periodic_oscillator(k, duration, omega)
    assert abs(_z_score(_slice_average(problem, idata, 2), exact)) < Z_BOUND
    assert abs(_z_score(_slice_average(problem, idata, 1), 0.0)) < Z_BOUND


def test_transfer_kernel_oracle_reproduces_the_harmonic_closed_form():
    # The oracle itself, checked where the answer is known in closed form.
    k, duration, omega = 16, 4.0, 1.0
    mean, second = transfer_kernel_moments([0.0, 0.0, 0.5], k, duration, 1.0)
    exact, _ = periodic_oscillator(k, duration, omega)
    assert mean == pytest.approx(0.0, abs=1e-10)
    assert second == pytest.approx(exact, rel=1e-8)


@pytest.mark.slow
def test_periodic_double_well_matches_the_transfer_kernel():
    # A tilted double well V = x^4 - 2 x^2 + 0.3 x at eps = 1: barrier 1, so
    # paths tunnel often and every chain visits both wells.
    coefficients = [0.0, 0.3, -2.0, 0.0, 1.0]
    k, duration = 16, 4.0
    problem = _problem(coefficients, k, duration, start=-1.0)
    # The quartic wall is stiff far out; a smaller step keeps NUTS exact there.
    idata = sample_paths(
        problem,
        jax.random.PRNGKey(3),
        num_chains=4,
        num_warmup=500,
        num_samples=2000,
        target_accept=0.9,
    )
    diag = diagnostics(problem, idata)
    assert diag["divergences"] == 0 and diag["rhat_max"] < 1.02
    mean, second = transfer_kernel_moments(coefficients, k, duration, 1.0)
    assert abs(_z_score(_slice_average(problem, idata, 1), mean)) < Z_BOUND
    assert abs(_z_score(_slice_average(problem, idata, 2), second)) < Z_BOUND


def test_library_transfer_kernel_marginal_reproduces_the_harmonic_closed_form():
    k, duration, omega = 16, 4.0, 1.3
    problem = _problem([0.0, 0.0, 0.5 * omega**2], k, duration)
    grid = np.linspace(-6.0, 6.0, 1201)
    density = transfer_kernel_marginal(problem, grid)
    step = grid[1] - grid[0]
    exact, _ = periodic_oscillator(k, duration, omega)
    assert np.sum(density) * step == pytest.approx(1.0, abs=1e-12)
    assert np.sum(density * grid**2) * step == pytest.approx(exact, rel=1e-8)


def test_library_transfer_kernel_marginal_matches_the_test_oracle():
    coefficients = [0.0, 0.3, -2.0, 0.0, 1.0]
    problem = _problem(coefficients, 16, 4.0)
    grid = np.linspace(-6.0, 6.0, 2401)
    density = transfer_kernel_marginal(problem, grid)
    step = grid[1] - grid[0]
    mean, second = transfer_kernel_moments(coefficients, 16, 4.0, 1.0)
    assert np.sum(density * grid) * step == pytest.approx(mean, rel=1e-7)
    assert np.sum(density * grid**2) * step == pytest.approx(second, rel=1e-7)


def test_transfer_kernel_marginal_refuses_bad_grids_and_warns_at_its_edges():
    problem = _problem([0.0, 0.0, 0.5], 16, 4.0)
    for grid in (np.linspace(1.0, -1.0, 11), np.array([0.0, 1.0]), [0.0, np.nan, 1.0]):
        with pytest.raises(ValueError, match="uniformly spaced"):
            transfer_kernel_marginal(problem, grid)
    with pytest.warns(RuntimeWarning, match="not contained in the grid"):
        transfer_kernel_marginal(problem, np.linspace(-0.5, 0.5, 101))
