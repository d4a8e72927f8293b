"""The path problem: everything that defines the weight of a training path."""

from typing import Callable, NamedTuple

import jax.numpy as jnp
import numpy as np

from pathgan import families as families_module
from pathgan.actions import ACTIONS, step_variance

END_CONDITIONS = ("free", "fixed", "periodic")

#: The actions each end condition allows; a periodic path is a thermal trace,
#: which only the euclidean action (no dissipation) defines.
ALLOWED_ACTIONS = {
    "free": ACTIONS,
    "fixed": ACTIONS,
    "periodic": ("euclidean",),
}


class PathProblem(NamedTuple):
    r"""A path ensemble's definition: family, potential, action, lattice, ends.

    Attributes
    ----------
    family
        A :class:`pathgan.families.Family`.
    potential_fn
        ``potential_fn(chart) -> V``.
    start
        The chart point :math:`x_0`, shape ``(n,)``. For a periodic path,
        which has no fixed start, it holds the coordinates that do not move
        and the point the path's mean is centred on.
    free
        Indices of the chart coordinates that move.
    action
        ``"onsager_machlup"``, ``"underdamped"`` or ``"euclidean"``.
    noise_scale
        :math:`\varepsilon > 0`; paths are weighted by
        :math:`\exp(-S/\varepsilon)`.
    friction
        :math:`\gamma > 0` (``onsager_machlup`` and ``underdamped``).
    duration
        :math:`T`.
    time_slices
        :math:`K`, the number of time steps; the lattice has ``K + 1`` points.
    end
        ``"free"``, ``"fixed"`` or ``"periodic"`` (:math:`x_K = x_0`,
        ``euclidean`` only).
    end_state
        The chart point :math:`x_K` for a fixed end, else ``None``.
    initial_velocity
        The velocity :math:`v_0 = \dot x(0)`, shape ``(n,)``, for the
        ``underdamped`` action; ``None`` means at rest.
    """

    family: families_module.Family
    potential_fn: Callable
    start: np.ndarray
    free: tuple
    action: str = "onsager_machlup"
    noise_scale: float = 0.05
    friction: float = 1.0
    duration: float = 4.0
    time_slices: int = 64
    end: str = "free"
    end_state: np.ndarray | None = None
    initial_velocity: np.ndarray | None = None

    @property
    def time_step(self):
        """:math:`dt = T / K`."""
        return self.duration / self.time_slices

    @property
    def times(self):
        r"""The lattice times :math:`t_0, \dots, t_K`."""
        return np.linspace(0.0, self.duration, self.time_slices + 1)

    @property
    def metric(self):
        """Diagonal of the metric on the free coordinates (constant charts)."""
        full = self.family.metric_fn(jnp.asarray(self.start))
        return jnp.asarray(full)[jnp.asarray(self.free)]

    @property
    def step_scale(self):
        """Standard deviation of one free step, per free coordinate."""
        variance = step_variance(
            self.action, self.noise_scale, self.time_step, self.friction
        )
        return jnp.sqrt(variance / self.metric)

    @property
    def free_initial_velocity(self):
        """The initial velocity on the free coordinates (zeros if unset)."""
        if self.initial_velocity is None:
            return np.zeros(len(self.free))
        return np.asarray(self.initial_velocity, dtype=np.float64)[list(self.free)]

    @property
    def free_names(self):
        """Names of the free coordinates."""
        return tuple(self.family.coordinate_names[i] for i in self.free)


def check_problem(problem):
    """Raise ``ValueError`` for an inconsistent :class:`PathProblem`."""
    if problem.action not in ACTIONS:
        raise ValueError(f"action {problem.action!r}; allowed: {ACTIONS}")
    if problem.end not in END_CONDITIONS:
        raise ValueError(f"end {problem.end!r}; allowed: {END_CONDITIONS}")
    if problem.action not in ALLOWED_ACTIONS[problem.end]:
        raise ValueError(
            f"end {problem.end!r} needs action "
            f"{' or '.join(map(repr, ALLOWED_ACTIONS[problem.end]))}; "
            f"got {problem.action!r}"
        )
    if problem.end == "fixed" and problem.end_state is None:
        raise ValueError("a fixed end needs an end_state")
    if problem.end != "fixed" and problem.end_state is not None:
        raise ValueError(f"end {problem.end!r} takes no end_state")
    if problem.initial_velocity is not None and problem.action != "underdamped":
        raise ValueError(
            f"an initial_velocity is only used by action 'underdamped' "
            f"(action is {problem.action!r})"
        )
    if problem.time_slices < 2:
        raise ValueError(f"time_slices = {problem.time_slices}; needs at least 2")
    if not problem.free:
        raise ValueError("no free coordinates")
    n = len(problem.family.coordinate_names)
    if len(set(problem.free)) != len(problem.free) or not all(
        0 <= i < n for i in problem.free
    ):
        raise ValueError(f"free = {problem.free}: distinct indices in 0..{n - 1}")
    for name in ("noise_scale", "friction", "duration"):
        value = getattr(problem, name)
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} = {value}: a positive finite number is needed")
    if problem.action == "underdamped" and problem.friction * problem.time_step >= 2:
        raise ValueError(
            f"friction * time_step = {problem.friction * problem.time_step:.3g}: "
            "the underdamped lattice needs less than 2 (its velocity update is "
            "explicit in the friction)"
        )
    fixed = [i for i in range(n) if i not in problem.free]
    for name in ("start", "end_state", "initial_velocity"):
        value = getattr(problem, name)
        if value is None:
            continue
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (n,) or not np.all(np.isfinite(value)):
            raise ValueError(f"{name} = {value.tolist()}: {n} finite numbers needed")
        if name == "initial_velocity" and np.any(value[fixed] != 0):
            raise ValueError(
                f"initial_velocity = {value.tolist()}: coordinates that are not "
                "free must be at rest"
            )
        if name == "end_state" and np.any(
            value[fixed] != np.asarray(problem.start)[fixed]
        ):
            raise ValueError(
                f"end_state = {value.tolist()}: coordinates that are not free must "
                "end where they start"
            )
    return problem
