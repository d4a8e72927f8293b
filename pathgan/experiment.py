"""The experiment runner: a validated config in, a result folder out.

A result folder holds ``paths.nc`` (ArviZ InferenceData, with the config and
library versions in its attributes), ``summary.json`` and ``figures/*.png``.
It is written under a temporary name and renamed into place, so a folder is
either complete or absent.
"""

import importlib.metadata
import json
import logging
import math
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import jax
import matplotlib
import numpy as np

from pathgan import data as data_module
from pathgan import potentials
from pathgan.config import VelocityConfig
from pathgan.families import get_family, is_reflected
from pathgan import flows
from pathgan.observables import (
    action_statistics,
    barrier_location,
    crossing_counts,
    hop_times,
    transfer_kernel_marginal,
)
from pathgan.problem import PathProblem, check_problem
from pathgan.sampling import diagnostics, exact_paths, sample_paths

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pathgan import plots  # noqa: E402

log = logging.getLogger("pathgan")

VERSIONED = ("pathgan", "jax", "numpyro", "arviz", "numpy", "scipy")


#: Files that mark a folder as a pathgan result, which ``force`` may replace.
RESULT_FILES = ("paths.nc", "summary.json")


class OutputError(ValueError):
    """A result folder cannot be written where it was asked for."""


class ResultExistsError(OutputError):
    """The output folder exists and ``force`` was not given."""


def show_path(path):
    """A path for a one-line message: quoted if it holds unprintable characters."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def build_target(config, base_dir=Path(".")):
    """The data target of a config, or ``None`` for a polynomial potential."""
    data = config.data
    if config.potential.kind == "polynomial":
        return None
    if data.source == "two_modes":
        centers = [-2.0, 2.0] if data.centers is None else data.centers
        widths = [0.5, 0.5] if data.widths is None else data.widths
        weights = [0.5, 0.5] if data.weights is None else data.weights
        return data_module.gaussian_mixture(
            centers,
            widths,
            weights,
            description=(
                f"two_modes: centers {centers}, widths {widths}, weights {weights}"
            ),
        )
    source = data.source
    if source not in data_module.BUILTIN_DATASETS:
        path = Path(source)
        source = str(path if path.is_absolute() else base_dir / path)
    samples, description = data_module.load_samples(
        source, data.column_list, data.standardize
    )
    return data_module.kernel_density(samples, data.bandwidth, description)


def build_problem(config, target):
    """The :class:`PathProblem` a config describes."""
    family = get_family(config.generator.family)
    names = family.coordinate_names
    free = tuple(names.index(n) for n in names if n in config.generator.free)
    start = np.array([getattr(config.generator.start, n) for n in names], dtype=float)
    if config.potential.kind == "polynomial":
        potential_fn = potentials.polynomial(
            config.potential.coefficients, family, free
        )
    else:
        potential_fn = potentials.data_potential(config.potential.kind, target, family)
    end_state = None
    if config.path.end == "fixed":
        given = config.path.end_state
        end_state = np.array(
            [
                getattr(given, n) if getattr(given, n) is not None else start[i]
                for i, n in enumerate(names)
            ],
            dtype=float,
        )
    velocity = config.path.initial_velocity
    initial_velocity = None
    if config.path.action == "underdamped":
        given = velocity or VelocityConfig()
        initial_velocity = np.array([getattr(given, n) for n in names], dtype=float)
    problem = PathProblem(
        family=family,
        potential_fn=potential_fn,
        start=start,
        free=free,
        action=config.path.action,
        noise_scale=config.noise.scale,
        friction=config.path.friction,
        duration=config.path.duration,
        time_slices=config.path.slices,
        end=config.path.end,
        end_state=end_state,
        initial_velocity=initial_velocity,
    )
    return check_problem(problem)


def versions():
    """Installed versions of pathgan and the libraries it rests on."""
    found = {}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def sample(config, problem, progress=False):
    """Draw the ensemble a config asks for; returns InferenceData."""
    sampler = config.sampler
    key = jax.random.PRNGKey(config.seed)
    if sampler.method == "exact":
        return exact_paths(problem, key, sampler.chains, sampler.draws)
    return sample_paths(
        problem,
        key,
        num_chains=sampler.chains,
        num_warmup=sampler.warmup,
        num_samples=sampler.draws,
        parameterization=sampler.parameterization,
        init_jitter=sampler.init_jitter,
        target_accept=sampler.target_accept,
        max_tree_depth=sampler.max_tree_depth,
        chain_method=sampler.chain_method,
        progress_bar=progress,
    )


def hop_analysis(problem, idata):
    """Hop times when one coordinate is pinned between two points, else None."""
    if problem.end != "fixed" or len(problem.free) != 1:
        return None
    coordinate = problem.free[0]
    if problem.start[coordinate] == problem.end_state[coordinate]:
        return None
    barrier = barrier_location(
        problem.potential_fn, problem.start, problem.end_state, coordinate
    )
    name = problem.family.coordinate_names[coordinate]
    values = idata.posterior["path"].sel(coordinate=name).values
    times = hop_times(values, problem.times, barrier)
    finite = times[np.isfinite(times)]
    summary = {
        "coordinate": name,
        "barrier": barrier,
        "paths": int(times.size),
        "paths_without_hop": int(times.size - finite.size),
    }
    if finite.size:
        q05, q50, q95 = np.percentile(finite, [5, 50, 95])
        summary.update(
            mean=float(finite.mean()),
            std=float(finite.std(ddof=1)),
            q05=float(q05),
            median=float(q50),
            q95=float(q95),
        )
    return summary, times


def instanton_analysis(config, problem):
    """The instanton of a euclidean run on a double-well polynomial, else None."""
    if problem.action != "euclidean" or config.potential.kind != "polynomial":
        return None
    try:
        # Refused without two wells, or on a coordinate the family reflects.
        return flows.instanton(problem, config.potential.coefficients)
    except ValueError:
        return None


def tunnelling_summary(problem, idata, found):
    """Barrier crossings per path, for a run with an instanton."""
    name = problem.family.coordinate_names[problem.free[0]]
    values = idata.posterior["path"].sel(coordinate=name).values
    counts = crossing_counts(values, found.wells[1])
    return {
        "coordinate": name,
        "barrier": found.wells[1],
        "crossings_mean": float(counts.mean()),
        "paths_with_crossings": float(np.mean(counts > 0)),
    }


def instanton_summary(found):
    """The ``classical.instanton`` entry of ``summary.json``."""
    lower, barrier, upper = found.wells
    return {
        "action": found.action,
        "continuum_action": found.continuum_action,
        "relative_difference": found.action / found.continuum_action - 1.0,
        "wells": [lower, upper],
        "barrier": barrier,
    }


def summarize(config, problem, idata, hops=None, found_instanton=None):
    """The ``summary.json`` contract as a dict."""
    stats = action_statistics(idata.posterior["action"].values, problem.noise_scale)
    means = idata.posterior["path"].sel(coordinate="mean").values
    observables = {
        "action_mean": stats["action_mean"],
        "action_std": stats["action_std"],
        "specific_heat": stats["specific_heat"],
        "order_parameter": float(means.mean()),
        "final_state_mean": {
            name: float(
                idata.posterior["path"].sel(coordinate=name).values[..., -1].mean()
            )
            for name in problem.family.coordinate_names
        },
    }
    if hops is not None:
        observables["hop_time"] = hops
    if found_instanton is not None:
        observables["tunnelling"] = tunnelling_summary(problem, idata, found_instanton)
    constant = idata.constant_data
    classical = {
        "minimum_action": float(constant.attrs["minimum_action"]),
        "minimum_converged": bool(constant.attrs["minimum_converged"]),
    }
    if found_instanton is not None:
        classical["instanton"] = instanton_summary(found_instanton)
    return {
        "name": config.name,
        "noise_scale": problem.noise_scale,
        "method": config.sampler.method,
        "action": problem.action,
        "end": problem.end,
        "time_slices": problem.time_slices,
        "duration": problem.duration,
        "chains": int(idata.posterior.sizes["chain"]),
        "draws": int(idata.posterior.sizes["draw"]),
        "diagnostics": diagnostics(problem, idata),
        "classical": classical,
        "observables": observables,
        "versions": versions(),
    }


def summary_json(summary):
    """The summary as JSON text; a non-finite number is written as ``null``.

    JSON has no NaN or infinity. A degenerate run (for example frozen paths,
    whose R-hat is undefined) logs a warning naming the keys instead.
    """
    not_finite = []

    def clean(value, key):
        if isinstance(value, dict):
            return {k: clean(v, f"{key}.{k}" if key else k) for k, v in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            not_finite.append(key)
            return None
        return value

    text = json.dumps(clean(summary, ""), indent=2, allow_nan=False) + "\n"
    if not_finite:
        log.warning(
            "not finite, written as null in summary.json: %s", ", ".join(not_finite)
        )
    return text


def write_figures(folder, problem, target, idata, hop_values=None, instanton=None):
    """Draw every figure of a run into ``folder``.

    ``instanton`` (a :class:`pathgan.flows.Instanton`) is drawn on the path
    fan.
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = problem.free_names
    width = 6 if instanton is None else 9  # room for the legend beside it
    fig, axes = plt.subplots(
        1, len(names), figsize=(width * len(names), 3.8), squeeze=False
    )
    for ax, name in zip(axes[0], names, strict=True):
        plots.plot_path_fan(idata, name, ax=ax, instanton=instanton)
    fig.tight_layout()
    fig.savefig(folder / "path_fan.png", dpi=120)
    plt.close(fig)

    axes = plots.plot_density_over_time(idata, problem.family, target)
    axes[0].figure.tight_layout()
    axes[0].figure.savefig(folder / "density.png", dpi=120)
    plt.close(axes[0].figure)

    fig = plots.plot_diagnostics(idata, problem)
    fig.savefig(folder / "diagnostics.png", dpi=110)
    plt.close(fig)

    if problem.end == "periodic" and len(problem.free) == 1:
        _write_marginal(folder, problem, idata)

    if hop_values is not None:
        ax = plots.plot_hop_times(hop_values, problem.duration)
        ax.figure.tight_layout()
        ax.figure.savefig(folder / "hop_times.png", dpi=120)
        plt.close(ax.figure)


def _write_marginal(folder, problem, idata):
    """``marginal.png``: one slice of a periodic path against the transfer kernel."""
    name = problem.free_names[0]
    values = idata.posterior["path"].sel(coordinate=name).values
    lower, upper = float(values.min()), float(values.max())
    if not (np.isfinite(lower) and np.isfinite(upper) and upper > lower):
        log.warning("marginal.png not drawn: the sampled %s is not spread out", name)
        return
    lower, upper = lower - 0.2 * (upper - lower), upper + 0.2 * (upper - lower)
    coordinate = problem.free[0]
    reflected = is_reflected(problem.family, coordinate)
    if reflected:
        # Paths are recorded reflected at 0; the kernel lives on the whole line.
        lower, upper = -upper, upper
    # Ten grid points per kernel width at least (and at most 3001 points).
    width = np.sqrt(problem.noise_scale * problem.time_step)
    count = int(min(3001, max(801, 10 * (upper - lower) / width)))
    count += count % 2 == 0  # odd, so that a symmetric grid holds 0
    grid = np.linspace(lower, upper, count)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        exact = transfer_kernel_marginal(problem, grid)
    if reflected:
        half = count // 2
        exact = exact[half:] + exact[half::-1]
        grid = grid[half:]
    ax = plots.plot_slice_marginal(idata, name, grid, exact)
    ax.set_title("one slice of the periodic path", fontsize="medium")
    ax.figure.tight_layout()
    ax.figure.savefig(folder / "marginal.png", dpi=120)
    plt.close(ax.figure)


def temporary_folder(parent, prefix):
    """A new empty folder in ``parent`` with the permissions of ``mkdir``.

    ``tempfile.mkdtemp`` makes folders readable by their owner only; a result
    folder renamed from it should be as readable as any other folder.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    return folder


def prepare_output(out_dir, force=False):
    """Check that a result can be written at ``out_dir``; make its temporary folder.

    Runs before any work, so that a result that could not be written costs
    nothing. An existing ``out_dir`` is refused unless ``force`` is given, and
    even then unless it is a folder holding a pathgan result (or nothing), so
    that ``force`` never deletes anything else.

    Returns
    -------
    temporary
        An empty folder beside ``out_dir``, to be renamed into place by
        :func:`replace_output`.

    Raises
    ------
    OutputError
        With a one-line reason.
    """
    out_dir = Path(out_dir)
    shown = show_path(out_dir)
    if out_dir.is_symlink() and not out_dir.exists():
        raise OutputError(
            f"{shown} is a broken symbolic link; remove it or choose another --out"
        )
    if out_dir.exists():
        if not force:
            raise ResultExistsError(f"{shown} exists; pass --force to replace it")
        if not out_dir.is_dir():
            raise OutputError(
                f"{shown} exists and is not a folder; refusing to replace it"
            )
        here = Path.cwd().resolve()
        if out_dir.resolve() in (here, *here.parents):
            raise OutputError(f"{shown} holds the working folder; choose another --out")
        is_result = any((out_dir / name).exists() for name in RESULT_FILES)
        if not is_result and any(out_dir.iterdir()):
            raise OutputError(
                f"{shown} is not a pathgan result folder (it has no "
                f"{' or '.join(RESULT_FILES)}); refusing to replace it"
            )
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return temporary_folder(out_dir.parent, f".{out_dir.name}.tmp-")
    except OSError as error:
        reason = error.strerror or str(error)
        message = f"cannot write a result folder at {shown}: {reason}"
        raise OutputError(message) from None


def replace_output(temporary, out_dir):
    """Rename ``temporary`` to ``out_dir``, replacing an old result only at the end.

    If the final rename fails, the old result is put back.
    """
    out_dir = Path(out_dir)
    if not out_dir.exists():
        temporary.rename(out_dir)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    old = trash / out_dir.name
    try:
        out_dir.rename(old)
        temporary.rename(out_dir)
    except OSError:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        if not old.exists():
            trash.rmdir()
        raise
    shutil.rmtree(trash)


def run_experiment(
    config, out_dir, force=False, progress=False, base_dir=Path("."), config_text=""
):
    """Run one experiment and write its result folder atomically.

    Returns the summary dict. Raises :class:`OutputError` (or its subclass
    :class:`ResultExistsError`) before any work if the result could not be
    written at ``out_dir``; see :func:`prepare_output`.
    """
    out_dir = Path(out_dir)
    temporary = prepare_output(out_dir, force)
    try:
        summary = _run_into(temporary, config, base_dir, progress, config_text)
        replace_output(temporary, out_dir)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    return summary


def _run_into(folder, config, base_dir, progress, config_text):
    """Sample one experiment and write its files into ``folder``."""
    target = build_target(config, base_dir)
    if target is not None:
        log.info("data: %s (bandwidth %.4g)", target.description, target.widths.max())
    problem = build_problem(config, target)
    log.info(
        "sampling %s: %s action, %s end, K=%d, eps=%g, %d chains x %d draws",
        config.name,
        problem.action,
        problem.end,
        problem.time_slices,
        problem.noise_scale,
        config.sampler.chains,
        config.sampler.draws,
    )
    idata = sample(config, problem, progress=progress)
    hop = hop_analysis(problem, idata)
    found = instanton_analysis(config, problem)
    summary = summarize(config, problem, idata, hop[0] if hop else None, found)
    idata.posterior.attrs.update(
        config=json.dumps(config.model_dump(mode="json")),
        config_toml=config_text,
        base_dir=str(base_dir),
        versions=json.dumps(summary["versions"]),
    )
    idata.to_netcdf(str(folder / "paths.nc"), engine="h5netcdf")
    (folder / "summary.json").write_text(summary_json(summary))
    log.info("drawing figures")
    write_figures(
        folder / "figures", problem, target, idata, hop[1] if hop else None, found
    )
    return summary
