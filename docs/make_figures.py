"""Draw the figures of ``docs/theory.md`` into ``docs/figures/geometry/``.

Run from the repository root (about 15 s on two cores)::

    python docs/make_figures.py

Figures:

``connection.png``
    The discriminator's two roles for a collapsed generator N(-1, 0.3^2) on
    the standardized Old Faithful eruption durations
    (:func:`pathgan.plots.plot_connection`).
``potential_flows.png``
    The gradient flows of the four data potentials (GAN value, the paper's
    J', KL and reverse KL) from that collapsed start: mean, width and the GAN
    value along each flow.
``overdamped_limit.png``
    The gap between the damped flow (time rescaled by the friction) and the
    gradient flow against the friction, with and without an initial
    velocity, on log-log axes with the fitted slopes.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import jax  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import scipy.integrate  # noqa: E402

import pathgan  # noqa: E402
from pathgan import data, families, flows, plots, potentials  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "geometry"
GAUSSIAN = families.GAUSSIAN
COLLAPSED = np.array([-1.0, 0.3])
LABELS = {
    "gan": "GAN value C = 2 JSD - log 4",
    "seed_loss": "J' = E_P[log(1 - D*)]",
    "kl": "KL(P_data || P)",
    "reverse_kl": "KL(P || P_data)",
}


def faithful():
    samples, text = data.load_samples("old_faithful", ["eruptions"], True)
    return data.kernel_density(samples, "silverman", text)


def connection_figure(target):
    axes = plots.plot_connection(COLLAPSED, GAUSSIAN, target)
    axes[0].figure.tight_layout()
    axes[0].figure.savefig(OUT / "connection.png", dpi=120)
    plt.close(axes[0].figure)


def potential_flows_figure(target):
    gan_value = jax.jit(potentials.gan(target, GAUSSIAN))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for kind, label in LABELS.items():
        problem = pathgan.PathProblem(
            family=GAUSSIAN,
            potential_fn=potentials.data_potential(kind, target, GAUSSIAN),
            start=COLLAPSED,
            free=(0, 1),
            duration=6.0,
            time_slices=12000,
        )
        path = np.asarray(flows.gradient_flow(problem))
        times = problem.times
        axes[0].plot(times, path[:, 0], label=label)
        axes[1].plot(times, np.abs(path[:, 1]), label=label)
        axes[2].plot(times, np.asarray(jax.vmap(gan_value)(path)), label=label)
    axes[0].set_ylabel("mean")
    axes[1].set_ylabel("width")
    axes[2].set_ylabel("GAN value C along the flow")
    axes[2].axhline(-np.log(4.0), color="0.5", linestyle=":", label="-log 4")
    for ax in axes:
        ax.set_xlabel("training time t")
    axes[0].legend(fontsize="small")
    fig.suptitle(
        "gradient flows from the collapsed start N(-1, 0.3^2), Old Faithful",
        fontsize="medium",
    )
    fig.tight_layout()
    fig.savefig(OUT / "potential_flows.png", dpi=120)
    plt.close(fig)


def overdamped_gap(friction, velocity, coefficients):
    """Sup over rescaled time in [0, 1] of |damped flow - gradient flow|."""
    slices = int(round(friction * friction / 0.05))
    problem = pathgan.PathProblem(
        family=GAUSSIAN,
        potential_fn=potentials.polynomial(coefficients, GAUSSIAN, (0,)),
        start=np.array([1.2, 1.0]),
        free=(0,),
        action="underdamped",
        friction=friction,
        duration=friction,
        time_slices=slices,
        initial_velocity=np.array([velocity, 0.0]),
    )
    damped = np.asarray(flows.damped_flow(problem))[:, 0]
    slope = np.polynomial.Polynomial(coefficients).deriv()
    tau = np.linspace(0.0, 1.0, 401)
    reference = scipy.integrate.solve_ivp(
        lambda t, y: -slope(y),
        (0.0, 1.0),
        [1.2],
        t_eval=tau,
        method="DOP853",
        rtol=1e-12,
        atol=1e-12,
    ).y[0]
    return np.max(
        np.abs(np.interp(tau, np.linspace(0, 1, slices + 1), damped) - reference)
    )


def overdamped_figure():
    coefficients = [0.0, 0.3, -1.0, 0.0, 1.0]
    frictions = np.array([8.0, 16.0, 32.0, 64.0, 128.0, 256.0])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for velocity, marker in ((2.0, "o"), (0.0, "s")):
        gaps = np.array([overdamped_gap(g, velocity, coefficients) for g in frictions])
        fit = np.polyfit(np.log(frictions[2:]), np.log(gaps[2:]), 1)[0]
        ax.loglog(
            frictions,
            gaps,
            marker=marker,
            label=f"initial velocity {velocity:g}: slope {fit:.2f} (gamma >= 32)",
        )
    ax.set_xlabel("friction gamma")
    ax.set_ylabel("sup |damped flow(gamma tau) - gradient flow(tau)|")
    ax.set_title("overdamped limit, V = x^4 - x^2 + 0.3 x", fontsize="medium")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(OUT / "overdamped_limit.png", dpi=120)
    plt.close(fig)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    target = faithful()
    connection_figure(target)
    potential_flows_figure(target)
    overdamped_figure()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
