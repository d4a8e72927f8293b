"""Sampling path ensembles: the NumPyro path model, NUTS and exact draws."""

import time
import warnings
from functools import partial

import arviz as az
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import MCMC, NUTS

from pathgan import whitening
from pathgan.actions import action_fn
from pathgan.flows import damped_flow, gradient_flow, minimum_action_path
from pathgan.problem import check_problem

PARAMETERIZATIONS = ("whitened", "plain")
#: Actions whose free-end path is an explicit map of its noise.
EXACT_ACTIONS = ("onsager_machlup", "underdamped")
CHAIN_METHODS = ("vectorized", "sequential", "parallel")
EXTRA_FIELDS = (
    "num_steps",
    "diverging",
    "energy",
    "accept_prob",
    "potential_energy",
    "adapt_state.step_size",
)


class NonFiniteStartError(RuntimeError):
    """The action or its gradient is not finite where a chain starts.

    Also raised by :func:`exact_paths` when a drawn path is not finite.
    """


def path_model(problem, parameterization="whitened"):
    r"""The path ensemble as a plain NumPyro model.

    The model's joint density is :math:`\exp(-S[x]/\varepsilon)` over the
    free slices. It records the ``path`` (shape ``(K + 1, n)``, in the
    family's canonical coordinates: a ``gaussian`` width is reflected at 0)
    and its ``action`` as deterministic sites.

    Parameters
    ----------
    problem
        A :class:`pathgan.PathProblem`.
    parameterization
        ``"whitened"``: a standard-normal site ``noise`` mapped to the path by
        :func:`pathgan.whitening.path_from_noise`, with the factor
        :math:`-S/\varepsilon + |\xi|^2/2` (the kinetic part is the prior).
        ``"plain"``: the moving slices themselves are the site ``moving``
        under an improper flat prior, with the factor :math:`-S/\varepsilon`.

    Returns
    -------
    model
        A NumPyro model taking no arguments.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            f"parameterization {parameterization!r}; allowed: {PARAMETERIZATIONS}"
        )
    action = action_fn(problem)
    canonical = problem.family.canonical_fn
    shape = whitening.noise_shape(problem)

    def whitened_model():
        noise = numpyro.sample("noise", dist.Normal(0.0, 1.0).expand(shape).to_event(2))
        path = whitening.path_from_noise(problem, noise)
        value = action(path)
        numpyro.factor("weight", -value / problem.noise_scale + 0.5 * jnp.sum(noise**2))
        numpyro.deterministic("path", canonical(path))
        numpyro.deterministic("action", value)

    def plain_model():
        moving = numpyro.sample(
            "moving",
            dist.ImproperUniform(dist.constraints.real, (), event_shape=shape),
        )
        path = whitening.embed(problem, moving)
        value = action(path)
        numpyro.factor("weight", -value / problem.noise_scale)
        numpyro.deterministic("path", canonical(path))
        numpyro.deterministic("action", value)

    return whitened_model if parameterization == "whitened" else plain_model


def _site(parameterization):
    return "noise" if parameterization == "whitened" else "moving"


def _initial_values(problem, parameterization, init_path, num_chains, jitter, rng_key):
    """Site values of each chain's start and the paths they map to."""
    shape = whitening.noise_shape(problem)

    @jax.jit
    def start(init_path, rng_key):
        kick = jitter * jax.random.normal(rng_key, (num_chains, *shape))
        if parameterization == "whitened":
            values = whitening.noise_from_path(problem, init_path) + kick
            to_path = partial(whitening.path_from_noise, problem)
        else:
            values = (
                whitening.moving_slices(problem, init_path) + kick * problem.step_scale
            )
            to_path = partial(whitening.embed, problem)
        return values, jax.vmap(to_path)(values)

    return start(jnp.asarray(init_path), rng_key)


def check_finite_start(problem, paths, what="chain"):
    """Raise :class:`NonFiniteStartError` naming the first bad path and slice.

    ``paths`` has shape ``(paths, K + 1, n)``; ``what`` names them in the
    message (``"chain"`` for starting points).
    """
    value_fn = jax.jit(jax.vmap(jax.vmap(problem.potential_fn)))
    grad_fn = jax.jit(jax.vmap(jax.vmap(jax.grad(problem.potential_fn))))
    values = np.asarray(value_fn(paths))
    grads = np.asarray(grad_fn(paths))
    bad = ~np.isfinite(values) | ~np.all(np.isfinite(grads), axis=-1)
    if bad.any():
        chain, k = map(int, np.argwhere(bad)[0])
        raise NonFiniteStartError(
            f"{what} {chain} has a non-finite potential or gradient at "
            f"time slice {k} (chart point {np.asarray(paths[chain, k]).tolist()})"
        )


def _coords(problem):
    return {
        "time": problem.times,
        "coordinate": list(problem.family.coordinate_names),
        "free_coordinate": list(problem.free_names),
    }


def _classical(problem):
    """The classical flows to record, and the one the minimum search starts at."""
    flows = {"gradient_flow": gradient_flow(problem)}
    if problem.action == "underdamped":
        flows["damped_flow"] = damped_flow(problem)
        return flows, flows["damped_flow"]
    return flows, flows["gradient_flow"]


def _add_classical(idata, problem, flows, minimum):
    dims = ("time", "coordinate")
    coords = {
        "time": problem.times,
        "coordinate": list(problem.family.coordinate_names),
    }
    import xarray as xr

    canonical = problem.family.canonical_fn
    variables = {
        name: (dims, np.asarray(canonical(flow))) for name, flow in flows.items()
    }
    data = xr.Dataset(
        {
            **variables,
            "minimum_action_path": (dims, np.asarray(canonical(minimum.path))),
        },
        coords=coords,
        attrs={
            "minimum_action": minimum.action,
            "minimum_converged": int(minimum.converged),
            "action": problem.action,
            "end": problem.end,
        },
    )
    idata.add_groups(constant_data=data)
    return idata


def sample_paths(
    problem,
    rng_key,
    num_chains=4,
    num_warmup=500,
    num_samples=1000,
    parameterization="whitened",
    init_path=None,
    init_jitter=0.1,
    target_accept=0.8,
    max_tree_depth=10,
    chain_method="vectorized",
    progress_bar=False,
):
    """Sample a path ensemble with NumPyro's NUTS.

    Chains start at the minimum-action path (or ``init_path``) plus a small
    jitter: ``init_jitter`` standard deviations of one whitened step.

    Parameters
    ----------
    problem
        A :class:`pathgan.PathProblem`.
    rng_key
        A JAX random key.
    num_chains, num_warmup, num_samples
        Chains, warmup (adaptation) iterations and kept draws per chain.
    parameterization
        ``"whitened"`` (default) or ``"plain"``; see :func:`path_model`.
    init_path
        A ``(K + 1, n)`` path to start from; default the minimum-action path.
    init_jitter
        Spread of the chains' starting points, in whitened units.
    target_accept, max_tree_depth
        NUTS settings.
    chain_method
        ``"vectorized"`` (default), ``"sequential"`` or ``"parallel"``.
    progress_bar
        Show NumPyro's progress bar.

    Returns
    -------
    idata
        ``arviz.InferenceData`` with posterior ``path`` (chain, draw, time,
        coordinate), ``action`` and the sampled site; sample stats
        ``diverging``, ``tree_depth``, ``n_steps`` (gradient evaluations per
        draw), ``energy``, ``acceptance_rate``, ``step_size``, ``lp``; constant
        data ``gradient_flow`` (and ``damped_flow`` for ``underdamped``) and
        ``minimum_action_path``, in canonical coordinates. The attributes of
        ``sample_stats`` hold ``seconds`` (warmup and sampling, compilation
        included), ``warmup_gradient_evaluations`` and
        ``gradient_evaluations`` (kept draws).
    """
    check_problem(problem)
    flows, flow = _classical(problem)
    check_finite_start(problem, flow[None], what="the classical flow, path")
    minimum = minimum_action_path(problem, flow=flow)
    start_path = minimum.path if init_path is None else init_path
    key_init, key_run = jax.random.split(rng_key)
    init, init_paths = _initial_values(
        problem, parameterization, start_path, num_chains, init_jitter, key_init
    )
    check_finite_start(problem, init_paths)
    if num_chains == 1:
        # NumPyro expects one chain's initial values without a chain axis.
        init = init[0]
    kernel = NUTS(
        path_model(problem, parameterization),
        target_accept_prob=target_accept,
        max_tree_depth=max_tree_depth,
    )
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        chain_method=chain_method,
        progress_bar=progress_bar,
    )
    site = _site(parameterization)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # NumPyro warns when chains outnumber devices; vectorized chains need none.
        warnings.filterwarnings("ignore", message="There are not enough devices")
        mcmc.warmup(
            key_run,
            init_params={site: init},
            extra_fields=("num_steps",),
            collect_warmup=True,
        )
        warmup_steps = int(np.sum(mcmc.get_extra_fields()["num_steps"]))
        mcmc.run(mcmc.post_warmup_state.rng_key, extra_fields=EXTRA_FIELDS)
    jax.block_until_ready(mcmc.get_samples())
    seconds = time.perf_counter() - started
    shape_name = "step" if parameterization == "whitened" else "moving_step"
    idata = az.from_numpyro(
        mcmc,
        log_likelihood=False,
        coords=_coords(problem),
        dims={
            "path": ["time", "coordinate"],
            site: [shape_name, "free_coordinate"],
        },
    )
    # The weight factor is an observed site to NumPyro; it holds no data.
    if "observed_data" in idata.groups():
        del idata.observed_data
    idata.sample_stats.attrs.update(
        seconds=seconds,
        warmup_gradient_evaluations=warmup_steps,
        gradient_evaluations=int(idata.sample_stats["n_steps"].sum()),
        num_warmup=num_warmup,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
        parameterization=parameterization,
        method="nuts",
    )
    return _add_classical(idata, problem, flows, minimum)


def exact_paths(problem, rng_key, num_chains=4, num_samples=1000, batch_size=256):
    r"""Exact independent draws for a free end of a dissipative action.

    For ``onsager_machlup`` the path is the Euler–Maruyama map of its noise
    increments,

    .. math::

        x_{k+1} = x_k - \frac{dt}{\gamma} g^{-1}\nabla V(x_k) + \sigma\, \xi_k,
        \qquad \xi_k \sim N(0, 1),

    and for ``underdamped`` the same map in phase space,
    :math:`v_{k+1} = v_k - dt(\gamma v_k + g^{-1}\nabla V(x_k)) +
    \sigma_v \xi_k`, :math:`x_{k+1} = x_k + dt\,v_{k+1}` with
    :math:`\sigma_v^2 = 2\gamma\varepsilon\,dt/g`; drawing :math:`\xi` draws
    the path ensemble exactly.

    Parameters
    ----------
    problem
        A :class:`pathgan.PathProblem` with a free end and action
        ``onsager_machlup`` or ``underdamped``.
    rng_key
        A JAX random key.
    num_chains, num_samples
        The draws come shaped as ``num_chains`` independent chains of
        ``num_samples``, to match :func:`sample_paths`.
    batch_size
        Paths mapped at once; the batches run in sequence, which bounds the
        memory of the vectorized map (and is faster than one huge batch). The
        draws do not depend on it.

    Returns
    -------
    idata
        ``arviz.InferenceData`` shaped like :func:`sample_paths`' result; its
        sample stats hold zero divergences and no gradient evaluations beyond
        the map itself.
    """
    for name, value in (
        ("num_chains", num_chains),
        ("num_samples", num_samples),
        ("batch_size", batch_size),
    ):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} = {value!r}: a positive integer is needed")
    check_problem(problem)
    if problem.action not in EXACT_ACTIONS or problem.end != "free":
        raise ValueError(
            f"exact draws exist only for action {' or '.join(EXACT_ACTIONS)} "
            f"with end 'free'; got action {problem.action!r} with end "
            f"{problem.end!r}"
        )
    free = jnp.asarray(problem.free)
    grad_fn = jax.grad(problem.potential_fn)
    dt, friction = problem.time_step, problem.friction
    scale = problem.step_scale
    action = action_fn(problem)
    start = jnp.asarray(problem.start, dtype=jnp.float64)
    velocity = jnp.asarray(problem.free_initial_velocity)

    def overdamped_step(state, xi):
        x, _ = state
        drift = -(dt / friction) * grad_fn(x)[free] / problem.metric
        x_next = x.at[free].add(drift + scale * xi)
        return (x_next, velocity), x_next

    def underdamped_step(state, xi):
        x, v = state
        force = friction * v + grad_fn(x)[free] / problem.metric
        # scale is the position step dt * sigma_v.
        v_next = v - dt * force + (scale / dt) * xi
        x_next = x.at[free].add(dt * v_next)
        return (x_next, v_next), x_next

    step = underdamped_step if problem.action == "underdamped" else overdamped_step

    def one_path(noise):
        _, rest = jax.lax.scan(step, (start, velocity), noise)
        path = jnp.concatenate([start[None], rest])
        return problem.family.canonical_fn(path), action(path)

    shape = (num_chains, num_samples, *whitening.noise_shape(problem))
    started = time.perf_counter()
    noise = jax.random.normal(rng_key, shape)
    # Batches of paths in sequence bound the memory of the vectorized map
    # (every potential evaluation of a batch is live at once).
    flat = noise.reshape(-1, *noise.shape[2:])
    batch = max(1, min(batch_size, flat.shape[0]))
    padded = -flat.shape[0] % batch
    flat = jnp.concatenate([flat, jnp.zeros((padded, *flat.shape[1:]))])
    batches = flat.reshape(-1, batch, *flat.shape[1:])
    paths, actions = jax.jit(lambda b: jax.lax.map(jax.vmap(one_path), b))(batches)
    count = num_chains * num_samples
    paths = paths.reshape(-1, *paths.shape[2:])[:count].reshape(
        num_chains, num_samples, *paths.shape[2:]
    )
    actions = actions.reshape(-1)[:count].reshape(num_chains, num_samples)
    jax.block_until_ready(paths)
    bad = ~np.all(np.isfinite(np.asarray(paths)), axis=-1)
    if bad.any():
        chain, draw, k = map(int, np.argwhere(bad)[0])
        raise NonFiniteStartError(
            f"exact draw {draw} of chain {chain} is not finite from time slice "
            f"{k} on: the dynamics blow up (a start, velocity or time step too "
            "large for the potential)"
        )
    seconds = time.perf_counter() - started
    coords = _coords(problem)
    idata = az.from_dict(
        posterior={"path": np.asarray(paths), "action": np.asarray(actions)},
        sample_stats={"diverging": np.zeros((num_chains, num_samples), dtype=bool)},
        coords=coords,
        dims={"path": ["time", "coordinate"]},
    )
    idata.sample_stats.attrs.update(
        seconds=seconds,
        warmup_gradient_evaluations=0,
        gradient_evaluations=0,
        method="exact",
    )
    flows, flow = _classical(problem)
    minimum = minimum_action_path(problem, flow=flow)
    return _add_classical(idata, problem, flows, minimum)


def moving_entries(problem, idata):
    """The posterior ``path`` restricted to the sampled slices and coordinates."""
    first, stop = {
        "free": (1, problem.time_slices + 1),
        "fixed": (1, problem.time_slices),
        "periodic": (0, problem.time_slices),
    }[problem.end]
    return (
        idata.posterior["path"]
        .isel(time=slice(first, stop))
        .sel(coordinate=list(problem.free_names))
    )


def diagnostics(problem, idata):
    """Convergence diagnostics over every sampled path coordinate.

    Returns a dict with ``rhat_max`` (rank-normalized split R-hat),
    ``ess_bulk_min`` and ``ess_tail_min`` (minimum over the sampled slices and
    free coordinates), ``divergences``, ``tree_depth_saturated`` (draws that
    hit the maximum tree depth), ``gradient_evaluations`` (warmup plus kept
    draws) and ``seconds``.
    """
    moving = moving_entries(problem, idata).to_dataset(name="path")
    rhat = float(az.rhat(moving)["path"].max())
    ess_bulk = float(az.ess(moving, method="bulk")["path"].min())
    ess_tail = float(az.ess(moving, method="tail")["path"].min())
    stats = idata.sample_stats
    saturated = 0
    if "tree_depth" in stats and "max_tree_depth" in stats.attrs:
        saturated = int(
            (stats["n_steps"] >= 2 ** stats.attrs["max_tree_depth"] - 1).sum()
        )
    return {
        "rhat_max": rhat,
        "ess_bulk_min": ess_bulk,
        "ess_tail_min": ess_tail,
        "divergences": int(stats["diverging"].sum()),
        "tree_depth_saturated": saturated,
        "gradient_evaluations": int(
            stats.attrs["gradient_evaluations"]
            + stats.attrs["warmup_gradient_evaluations"]
        ),
        "seconds": float(stats.attrs["seconds"]),
    }
