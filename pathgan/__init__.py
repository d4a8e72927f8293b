r"""pathgan: the training of a GAN as a path integral on Wasserstein space.

The generator's law moves on a chart of the Wasserstein-2 space; its training
path, cut into time slices, is weighted by :math:`\exp(-S/\varepsilon)` and
sampled with the No-U-Turn sampler. Importing pathgan switches JAX to float64
before any array exists.
"""

import jax

jax.config.update("jax_enable_x64", True)

from pathgan import actions, data, families, flows, geometry, potentials  # noqa: E402
from pathgan.actions import log_step_normalizer, step_variance  # noqa: E402
from pathgan.problem import PathProblem  # noqa: E402
from pathgan.sampling import exact_paths, path_model, sample_paths  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "PathProblem",
    "actions",
    "data",
    "exact_paths",
    "families",
    "flows",
    "geometry",
    "log_step_normalizer",
    "path_model",
    "potentials",
    "sample_paths",
    "step_variance",
]
