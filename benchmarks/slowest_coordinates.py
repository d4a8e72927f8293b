"""Where the faithful path ensemble mixes slowest, at K = 32 and K = 512.

Samples ``faithful`` with the whitened sampler as ``ess_per_gradient.py``
does (2 chains, 400 warmup, 400 draws, seed 0) and prints, per chart
coordinate, the three path coordinates with the smallest bulk ESS and their
times, the median bulk ESS over time, and the bulk ESS of the action. About
5 minutes on two cores. Run from the repository root::

    python benchmarks/slowest_coordinates.py
"""

import sys
from pathlib import Path

import pathgan  # noqa: F401  (switches JAX to float64 before any array exists)
import arviz as az
import jax
import numpy as np

from pathgan.sampling import moving_entries, sample_paths

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ess_per_gradient import problem_for  # noqa: E402


def main():
    """Print the slowest path coordinates for each K."""
    for slices in (32, 512):
        _, problem = problem_for("faithful", slices)
        idata = sample_paths(
            problem,
            jax.random.PRNGKey(0),
            num_chains=2,
            num_warmup=400,
            num_samples=400,
        )
        moving = moving_entries(problem, idata).to_dataset(name="path")
        ess = az.ess(moving, method="bulk")["path"]
        for name in problem.free_names:
            values = ess.sel(coordinate=name).values
            lowest = np.argsort(values)[:3]
            times = ess["time"].values[lowest]
            print(
                f"K={slices} {name}: lowest bulk ESS {np.round(values[lowest])} "
                f"at t = {np.round(times, 3)}; median {np.median(values):.0f}"
            )
        action = az.ess(idata.posterior[["action"]], method="bulk")["action"]
        print(f"K={slices} action: bulk ESS {float(action):.0f}", flush=True)


if __name__ == "__main__":
    main()
