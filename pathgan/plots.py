"""Figures of path ensembles.

Each function takes data and an optional ``ax`` and returns the axes; none
calls ``plt.show()``.
"""

import math
import warnings

import arviz as az
import jax
import matplotlib.pyplot as plt
import numpy as np

from pathgan import data as data_module
from pathgan import geometry

FLOW_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.5}
MINIMUM_STYLE = {"color": "tab:red", "linestyle": ":", "linewidth": 2.2}
DAMPED_STYLE = {"color": "tab:green", "linestyle": "-.", "linewidth": 1.5}
INSTANTON_STYLE = {"color": "tab:orange", "linewidth": 2.4}
BAND_COLOR = "tab:blue"


def _draws(idata, coordinate):
    path = idata.posterior["path"].sel(coordinate=coordinate)
    return path.stack(sample=("chain", "draw")).transpose("sample", "time").values


def plot_path_fan(
    idata, coordinate, ax=None, num_single_paths=5, seed=0, instanton=None
):
    """The path ensemble of one chart coordinate against time.

    Shows the ensemble median, its 50% and 90% bands, a few single paths, the
    minimum-action path and the classical flows (the gradient flow, and the
    damped flow of an ``underdamped`` run; a periodic run has no start, so no
    flow is drawn).

    Parameters
    ----------
    idata
        A sampled ensemble (:func:`pathgan.sample_paths`).
    coordinate
        The chart coordinate to show.
    ax
        Axes to draw on; a new figure if ``None``.
    num_single_paths, seed
        How many single paths to draw, and which (a NumPy seed).
    instanton
        A :class:`pathgan.flows.Instanton` to draw over the single path that
        tunnels upwards most clearly (the largest jump between its means over
        one time unit before and after the crossing), centred at that
        crossing of the barrier, with the wells as thin lines.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    times = idata.posterior["time"].values
    draws = _draws(idata, coordinate)
    low90, low50, median, high50, high90 = np.percentile(
        draws, [5, 25, 50, 75, 95], axis=0
    )
    ax.fill_between(
        times, low90, high90, color=BAND_COLOR, alpha=0.18, label="90% band"
    )
    ax.fill_between(
        times, low50, high50, color=BAND_COLOR, alpha=0.35, label="50% band"
    )
    rng = np.random.default_rng(seed)
    chosen = rng.choice(
        draws.shape[0], size=min(num_single_paths, draws.shape[0]), replace=False
    )
    for i, index in enumerate(chosen):
        ax.plot(
            times,
            draws[index],
            color="0.45" if instanton is None else "0.7",
            linewidth=0.6,
            label="single paths" if i == 0 else None,
        )
    ax.plot(times, median, color=BAND_COLOR, linewidth=2, label="ensemble median")
    constant = idata.constant_data
    if constant.attrs.get("end") != "periodic":
        ax.plot(
            times,
            constant["gradient_flow"].sel(coordinate=coordinate),
            label="gradient flow",
            **FLOW_STYLE,
        )
    if "damped_flow" in constant:
        ax.plot(
            times,
            constant["damped_flow"].sel(coordinate=coordinate),
            label="damped flow",
            **DAMPED_STYLE,
        )
    ax.plot(
        times,
        constant["minimum_action_path"].sel(coordinate=coordinate),
        label="minimum-action path",
        **MINIMUM_STYLE,
    )
    if instanton is not None:
        _draw_instanton(ax, instanton, times, draws[chosen], coordinate, idata)
    ax.set_xlabel("training time t")
    ax.set_ylabel(coordinate)
    if instanton is None:
        ax.legend(fontsize="small", loc="best")
    else:
        # The bands fill a periodic run's window; keep the legend beside it.
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _draw_instanton(ax, instanton, times, single_paths, coordinate, idata):
    """The instanton over the clearest upward crossing of the single paths."""
    lower, barrier, upper = instanton.wells
    for level in (lower, upper):
        ax.axhline(level, color="0.3", linewidth=0.6, linestyle=(0, (1, 3)))
    index = list(idata.posterior["coordinate"].values).index(coordinate)
    shape = instanton.path[:, index]
    label = (
        f"instanton: S = {instanton.action:.4g} "
        f"(continuum {instanton.continuum_action:.4g})"
    )
    # A clean event: the crossing with the largest jump between the path's
    # means over one time unit before and after it (noise recrosses often).
    window = max(1, int(round(1.0 / (times[1] - times[0]))))
    best = None
    for path in single_paths:
        for k in np.nonzero((path[:-1] < barrier) & (path[1:] >= barrier))[0]:
            before = path[max(0, k + 1 - window) : k + 1].mean()
            after = path[k + 1 : k + 1 + window].mean()
            share = (barrier - path[k]) / (path[k + 1] - path[k])
            crossing = times[k] + share * (times[k + 1] - times[k])
            if best is None or after - before > best[0]:
                best = (after - before, crossing, path)
    if best is None:
        ax.plot([], [], label=label + "; no single path tunnels", **INSTANTON_STYLE)
        return
    _, crossing, path = best
    ax.plot(times, path, color="0.1", linewidth=1.0, label="a tunnelling path")
    shifted = instanton.times + crossing
    inside = (shifted >= times[0]) & (shifted <= times[-1])
    ax.plot(shifted[inside], shape[inside], label=label, **INSTANTON_STYLE)


def mean_density(idata, family, x, max_draws=800):
    r"""Ensemble-mean generator density :math:`\bar p_t(x)`, shape ``(time, x)``."""
    path = (
        idata.posterior["path"]
        .stack(sample=("chain", "draw"))
        .transpose("sample", "time", "coordinate")
        .values
    )
    stride = max(1, math.ceil(path.shape[0] / max_draws))
    path = path[::stride]
    if family.name != "gaussian":
        raise NotImplementedError(f"density plot for family {family.name!r}")
    mean = path[..., 0][..., None]
    width = np.abs(path[..., 1])[..., None]
    density = np.exp(-0.5 * ((x - mean) / width) ** 2) / (
        width * math.sqrt(2 * math.pi)
    )
    return density.mean(axis=0)


def plot_density_over_time(idata, family, target, axes=None, num_points=300):
    """The ensemble-mean density over (t, x) as an image, the data density beside.

    ``axes`` is a pair ``(image_ax, data_ax)`` sharing the x axis of the
    laws; a new figure is made if ``None``.
    """
    if axes is None:
        _, axes = plt.subplots(
            1, 2, figsize=(8, 3.8), sharey=True, gridspec_kw={"width_ratios": [4, 1]}
        )
    image_ax, data_ax = axes
    times = idata.posterior["time"].values
    path = idata.posterior["path"]
    means = path.sel(coordinate="mean").values
    widths = np.abs(path.sel(coordinate="width").values)
    lower = [np.percentile(means - 3 * widths, 1)]
    upper = [np.percentile(means + 3 * widths, 99)]
    if target is not None:
        lower.append(np.min(target.centers) - 3 * np.max(target.widths))
        upper.append(np.max(target.centers) + 3 * np.max(target.widths))
    lower, upper = min(lower), max(upper)
    x = np.linspace(lower, upper, num_points)
    density = mean_density(idata, family, x)
    mesh = image_ax.pcolormesh(times, x, density.T, shading="auto", cmap="viridis")
    plt.colorbar(mesh, ax=image_ax, label="ensemble-mean density")
    image_ax.set_xlabel("training time t")
    image_ax.set_ylabel("x")
    image_ax.set_title("generator density over training")
    if target is not None:
        data_ax.plot(
            np.exp(np.asarray(data_module.log_density(target, x))), x, color="black"
        )
        if target.samples is not None:
            data_ax.hist(
                target.samples,
                bins=40,
                orientation="horizontal",
                density=True,
                color="0.8",
            )
        data_ax.set_title("data")
    else:
        data_ax.set_title("no data target")
    data_ax.set_xlabel("density")
    return axes


def plot_diagnostics(idata, problem, num_coordinates=4):
    """ArviZ rank plots of a few path coordinates and the energy plot.

    Returns the figure.
    """
    k = problem.time_slices
    slices = sorted({max(1, k // 4), k // 2, min(k - 1, 3 * k // 4)})
    selected = [(t, name) for name in problem.free_names for t in slices][
        :num_coordinates
    ]
    fig, axes = plt.subplots(
        1, len(selected) + 1, figsize=(3.2 * (len(selected) + 1), 3.4)
    )
    times = idata.posterior["time"].values
    with warnings.catch_warnings():
        # ArviZ 0.23 calls a matplotlib helper that matplotlib 3.11 deprecates.
        warnings.filterwarnings("ignore", message="Passing a dict or None as alias")
        for ax, (t, name) in zip(axes[:-1], selected, strict=True):
            az.plot_rank(
                idata,
                var_names=["path"],
                coords={"time": [times[t]], "coordinate": [name]},
                ax=ax,
            )
            ax.set_title(f"rank plot: {name} at t = {times[t]:.2f}")
        energy_ax = axes[-1]
        if "energy" in idata.sample_stats:
            az.plot_energy(idata, ax=energy_ax, bfmi=False, legend=False)
            bfmi = az.bfmi(idata)
            energy_ax.legend(fontsize="x-small", loc="upper right")
            energy_ax.set_title(f"energy: BFMI {bfmi.min():.2f} to {bfmi.max():.2f}")
        else:
            energy_ax.axis("off")
            energy_ax.text(
                0.5, 0.5, "exact draws:\nno energy", ha="center", va="center"
            )
    for ax in axes:
        ax.title.set_fontsize("small")
        ax.xaxis.label.set_fontsize("small")
        ax.yaxis.label.set_fontsize("small")
        ax.tick_params(labelsize="small")
    fig.tight_layout()
    return fig


def plot_hop_times(hop_times, duration, ax=None):
    """Histogram of hop times."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    finite = np.asarray(hop_times)[np.isfinite(hop_times)]
    ax.hist(finite, bins=40, range=(0, duration), density=True, color=BAND_COLOR)
    ax.axvline(np.median(finite), color="black", linestyle="--", label="median")
    ax.set_xlabel("hop time (first crossing of the barrier)")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return ax


def plot_connection(chart, family, target, axes=None, num_points=400):
    r"""The discriminator's two roles at one generator law, in two panels.

    Top: the data and generator densities and the optimal discriminator
    :math:`D^*` (the maximizer of the GAN value). Bottom, over the
    generator's support (mean plus or minus four widths, where its mass is):
    the velocity field :math:`-A = -\nabla\log(1 - D^*)` that moves the
    generator's points, and the chart tangent's velocity field
    :math:`-\sum_j a_j \partial_j T`, the part of it the family can follow.

    Parameters
    ----------
    chart
        The generator's chart point.
    family, target
        The generator family and the data target.
    axes
        A pair of axes; a new figure if ``None``.
    num_points
        Grid points.

    Returns
    -------
    axes
    """
    if axes is None:
        _, axes = plt.subplots(2, 1, figsize=(6.5, 5.6))
    top, bottom = axes
    chart = np.asarray(chart, dtype=np.float64)
    spread = 4 * np.max(target.widths) + 3 * np.std(target.centers)
    lower = min(np.min(target.centers) - spread, chart[0] - 4 * abs(chart[1]))
    upper = max(np.max(target.centers) + spread, chart[0] + 4 * abs(chart[1]))
    x = np.linspace(lower, upper, num_points)
    p_data = np.exp(np.asarray(data_module.log_density(target, x)))
    p_gen = np.exp(np.asarray(family.log_density_fn(chart, x)))
    d_star = np.asarray(geometry.discriminator(chart, x, family, target))
    top.fill_between(x, p_data, color="0.8", label="data density")
    top.plot(x, p_gen, color=BAND_COLOR, label="generator density")
    twin = top.twinx()
    twin.plot(x, d_star, color="tab:red", label="D*")
    twin.set_ylim(-0.02, 1.02)
    twin.set_ylabel("D*", color="tab:red")
    top.set_ylabel("density")
    top.set_title("the loss: D* maximizes the GAN value")

    top.set_xlabel("x")
    top.axvspan(
        chart[0] - 4 * abs(chart[1]),
        chart[0] + 4 * abs(chart[1]),
        color="tab:blue",
        alpha=0.06,
        zorder=0,
        label="generator support (lower panel)",
    )
    handles = top.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    top.legend(handles[0] + extra[0], handles[1] + extra[1], fontsize="small")

    connection = geometry.connection(chart, family, target)
    near = np.linspace(
        chart[0] - 4 * abs(chart[1]), chart[0] + 4 * abs(chart[1]), num_points
    )
    field = -np.asarray(connection.velocity_fn(near))
    directions = np.asarray(
        jax.jacfwd(family.transport_fn)(chart, (near - chart[0]) / chart[1])
    )
    followed = -directions @ np.asarray(connection.tangent)
    bottom.axhline(0.0, color="0.5", linewidth=0.8)
    bottom.plot(near, field, color="black", label="-A(x): the force on each point")
    bottom.plot(
        near,
        followed,
        color=BAND_COLOR,
        linestyle="--",
        label="chart tangent: the part the family follows",
    )
    bottom.set_xlabel("x")
    bottom.set_ylabel("velocity")
    bottom.set_title(
        f"the force: |A|_g = {float(connection.norm):.3g}, "
        f"||A|| = {float(connection.velocity_norm):.3g}"
    )
    bottom.legend(fontsize="small")
    return axes


def plot_slice_marginal(idata, coordinate, grid, density, ax=None, bins=80):
    """Histogram of one coordinate over every slice and draw, with a reference law.

    For a periodic path every slice has the same law, so the pooled samples
    estimate it; ``density`` on ``grid`` is the exact law to compare with
    (:func:`pathgan.observables.transfer_kernel_marginal`).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.6))
    values = idata.posterior["path"].sel(coordinate=coordinate).values[..., :-1]
    ax.hist(
        values.ravel(),
        bins=bins,
        range=(grid[0], grid[-1]),
        density=True,
        color="0.8",
        label="sampled slices (all draws)",
    )
    ax.plot(grid, density, color="black", label="transfer kernel (exact)")
    ax.set_xlabel(coordinate)
    ax.set_ylabel("density")
    ax.legend(fontsize="small")
    return ax
