r"""Spectrum of the whitened path target's Hessian against the number of slices.

What
----
NUTS's step size and trajectory length are set by the curvature of the
target. In whitened coordinates (:mod:`pathgan.whitening`) the negative log
density is :math:`S/\varepsilon` as a function of the noise :math:`\xi`, and
its Hessian would be the identity for a potential-free path. This script
reports, for the problems of ``benchmarks/ess_per_gradient.py`` and time
slices ``K``, the extreme eigenvalues of that Hessian, its condition number,
and how many eigenvalues lie outside [0.5, 2], at two points:

- ``minimum``: the minimum-action path, where chains start;
- ``typical``: the minimum-action path plus one draw of standard-normal
  noise in whitened coordinates, a path as rough as a sampled one.

How
---
The Hessian is assembled column by column from Hessian-vector products
(forward over reverse mode, ``jax.lax.map`` over batches of unit vectors), so
memory stays bounded at large ``K``; its eigenvalues come from
``numpy.linalg.eigvalsh``.

Run from the repository root::

    python benchmarks/whitened_spectrum.py                  # K in {32, 128, 512}
    python benchmarks/whitened_spectrum.py --slices 32 128
"""

import argparse
import sys
import time
from pathlib import Path

import pathgan  # noqa: F401  (switches JAX to float64 before any array exists)
import jax
import jax.numpy as jnp
import numpy as np

from pathgan import whitening
from pathgan.actions import action_fn
from pathgan.flows import minimum_action_path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ess_per_gradient import PROBLEMS, SLICES, problem_for  # noqa: E402

#: Unit vectors per ``lax.map`` step: large enough to vectorize, small enough
#: to bound the memory of the GAN potential's quadrature.
BATCH = 16


def whitened_hessian(problem, noise):
    """Hessian of S/eps with respect to the flat whitened noise at ``noise``."""
    action = action_fn(problem)
    shape = whitening.noise_shape(problem)

    def objective(flat):
        path = whitening.path_from_noise(problem, flat.reshape(shape))
        return action(path) / problem.noise_scale

    gradient = jax.grad(objective)
    size = noise.size

    @jax.jit
    def columns(point):
        def hvp(tangent):
            return jax.jvp(gradient, (point,), (tangent,))[1]

        basis = jnp.eye(size)
        padded = -(-size // BATCH) * BATCH
        basis = jnp.concatenate([basis, jnp.zeros((padded - size, size))])
        batches = basis.reshape(-1, BATCH, size)
        return jax.lax.map(jax.vmap(hvp), batches).reshape(padded, size)[:size]

    hessian = np.asarray(columns(jnp.asarray(noise).ravel()))
    return 0.5 * (hessian + hessian.T)


def spectrum_row(name, slices, point, eigenvalues, seconds):
    """One markdown table row."""
    low, high = eigenvalues.min(), eigenvalues.max()
    outside = int(np.sum((eigenvalues < 0.5) | (eigenvalues > 2.0)))
    return (
        f"| {name} | {slices} | {point} | {eigenvalues.size} | {low:.3g} | "
        f"{high:.3g} | {high / low:.3g} | {outside} | {seconds:.0f} |"
    )


def main(argv=None):
    """Print the spectrum table as markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", nargs="+", choices=PROBLEMS, default=PROBLEMS)
    parser.add_argument("--slices", nargs="+", type=int, default=list(SLICES))
    arguments = parser.parse_args(argv)
    print(
        "| problem | K | point | dimension | smallest eigenvalue | largest "
        "eigenvalue | condition number | outside [0.5, 2] | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in arguments.problems:
        for slices in arguments.slices:
            _, problem = problem_for(name, slices)
            minimum = minimum_action_path(problem).path
            centre = whitening.noise_from_path(problem, jnp.asarray(minimum))
            kick = jax.random.normal(jax.random.PRNGKey(1), centre.shape)
            for point, noise in (("minimum", centre), ("typical", centre + kick)):
                started = time.perf_counter()
                eigenvalues = np.linalg.eigvalsh(whitened_hessian(problem, noise))
                seconds = time.perf_counter() - started
                print(
                    spectrum_row(name, slices, point, eigenvalues, seconds),
                    flush=True,
                )


if __name__ == "__main__":
    main()
