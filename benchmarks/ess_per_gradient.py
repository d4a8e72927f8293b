"""Bulk ESS per gradient evaluation of the whitened and the plain NUTS sampler.

What
----
For two path problems and several numbers of time slices ``K``, draw the path
ensemble with :func:`pathgan.sampling.sample_paths` twice, once with
``parameterization="whitened"`` and once with ``"plain"`` (same seed, chains,
warmup, draws and target acceptance), and report for each run

- ``ess_bulk_min``: the smallest rank-normalized bulk ESS over the sampled
  path coordinates (every moving slice of every free coordinate), from
  :func:`pathgan.sampling.diagnostics`;
- ESS per gradient: ``ess_bulk_min`` over the leapfrog steps of the kept draws
  (``idata.sample_stats.attrs["gradient_evaluations"]``; warmup excluded);
- ESS per second: ``ess_bulk_min`` over the sampler's seconds
  (``idata.sample_stats.attrs["seconds"]``: warmup and sampling, JIT
  compilation included);
- mean tree depth, the tree-depth cap and the draws that hit it, divergences,
  the largest split R-hat, the mean adapted step size, the sampler's seconds
  and the wall seconds of the whole configuration (problem set-up, minimum
  action path, sampling and diagnostics).

The problems:

``quadratic``
    :math:`V = m^2/2` on the mean of a gaussian generator (width fixed at 1),
    started at ``mean = 1``; Onsager-Machlup action, free end, ``T = 4``,
    noise scale 0.1. The path ensemble is a discretized Ornstein-Uhlenbeck
    process, so the whitened target is close to a standard normal.
``faithful``
    ``experiments/faithful.toml`` (GAN potential on Old Faithful, mean and
    width free, fixed end, ``T = 8``, noise scale 0.01) with its slice count
    replaced by ``K``.
``underdamped``
    The quadratic problem with the ``underdamped`` action (friction 1,
    initial velocity 0.5): the whitening is the exact square root of an
    integrated Ornstein-Uhlenbeck process.
``periodic``
    The double well :math:`V = (m^2 - 1)^2` on a periodic euclidean path,
    ``T = 8``, noise scale 1 (barrier 1, so paths tunnel often and ESS
    measures the sampler, not rare tunnelling); Fourier whitening.

How
---
Configs are built as plain dicts and validated with
:func:`pathgan.config.parse_config`; :func:`pathgan.experiment.build_target`
and :func:`pathgan.experiment.build_problem` turn them into a problem, and
:func:`pathgan.sampling.sample_paths` is called directly. Runs are in float64
(importing :mod:`pathgan` switches JAX to it). The plain sampler's cost per
independent draw grows with ``K`` (its target's condition number grows like
``K**2``), so at ``K >= 128`` its tree depth is capped (``--max-tree-depth``;
the default cap is 8 for ``faithful`` and NumPyro's 10 for ``quadratic``);
the table records the cap and how many kept draws hit it. A saturated
``faithful`` draw at ``K = 512`` costs 255 gradients of about 8 ms each (two
chains, two cores; the table's ``ms / gradient`` column), so the capped
``faithful`` runs take only 20 warmup and 20 kept draws per chain by default
(``--capped-warmup``, ``--capped-draws``); their ESS is a rough estimate,
shown to make the saturation visible, not a converged value.

The results table, the command, the machine and the ratios
(whitened/plain ESS per gradient at each ``K``; whitened ESS per gradient at
the largest ``K`` over the smallest) are written as markdown to ``--out``.
Text after the line ``<!-- notes -->`` in an existing ``--out`` file is kept.

Run from the repository root::

    python benchmarks/ess_per_gradient.py            # full run, about 15 min
    python benchmarks/ess_per_gradient.py --quick    # K in {32, 128}
"""

import argparse
import os
import platform
import shlex
import sys
import time
import tomllib
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import pathgan  # noqa: F401  (switches JAX to float64 before any array exists)
import jax

from pathgan.config import parse_config
from pathgan.experiment import build_problem, build_target
from pathgan.sampling import diagnostics, sample_paths

ROOT = Path(__file__).resolve().parent.parent
FAITHFUL_CONFIG = ROOT / "experiments" / "faithful.toml"
PROBLEMS = ("quadratic", "faithful", "underdamped", "periodic")
PARAMETERIZATIONS = ("whitened", "plain")
SLICES = (32, 128, 512)
QUICK_SLICES = (32, 128)
DEFAULT_DEPTH = 10
LARGE_SLICES = 128
NOTES_MARKER = "<!-- notes -->"

#: Per-problem defaults: chains, warmup, draws, the plain sampler's tree-depth
#: cap at K >= LARGE_SLICES, and warmup and draws of the runs capped below
#: DEFAULT_DEPTH (``None``: as the others). A saturated faithful draw at
#: K = 512 costs 255 gradients of about 8 ms (2 chains, 2 cores): 2 s.
SETTINGS = {
    "quadratic": {
        "chains": 2, "warmup": 300, "draws": 300, "plain_depth": 10,
        "capped_warmup": None, "capped_draws": None,
    },
    "faithful": {
        "chains": 2, "warmup": 400, "draws": 400, "plain_depth": 8,
        "capped_warmup": 20, "capped_draws": 20,
    },
}
SETTINGS["underdamped"] = dict(SETTINGS["quadratic"], plain_depth=8)
SETTINGS["periodic"] = dict(SETTINGS["quadratic"], plain_depth=8)
QUICK_SETTINGS = {
    "quadratic": {
        "chains": 2, "warmup": 200, "draws": 200, "plain_depth": 10,
        "capped_warmup": None, "capped_draws": None,
    },
    "faithful": {
        "chains": 2, "warmup": 100, "draws": 100, "plain_depth": 8,
        "capped_warmup": 20, "capped_draws": 20,
    },
}

QUICK_SETTINGS["underdamped"] = dict(QUICK_SETTINGS["quadratic"], plain_depth=8)
QUICK_SETTINGS["periodic"] = dict(QUICK_SETTINGS["quadratic"], plain_depth=8)

COLUMNS = (
    ("problem", "problem"),
    ("K", "slices"),
    ("sampler", "sampler"),
    ("warmup+draws", "iterations"),
    ("cap", "cap"),
    ("ESS bulk min", "ess"),
    ("gradients (kept)", "gradients"),
    ("ESS / gradient", "ess_per_gradient"),
    ("ESS / s", "ess_per_second"),
    ("ms / gradient", "ms_per_gradient"),
    ("mean tree depth", "tree_depth"),
    ("draws at cap", "saturated"),
    ("divergences", "divergences"),
    ("R-hat max", "rhat"),
    ("step size", "step_size"),
    ("sampler s", "seconds"),
    ("wall s", "wall"),
)


def quadratic_config(slices):
    """The config mapping of the quadratic problem with ``slices`` time slices."""
    return {
        "name": "quadratic",
        "seed": 0,
        "generator": {
            "family": "gaussian",
            "start": {"mean": 1.0, "width": 1.0},
            "free": ["mean"],
        },
        "potential": {"kind": "polynomial", "coefficients": [0.0, 0.0, 0.5]},
        "path": {
            "action": "onsager_machlup",
            "slices": slices,
            "duration": 4.0,
            "end": "free",
        },
        "noise": {"scale": 0.1},
    }


def underdamped_config(slices):
    """The quadratic problem with the underdamped action."""
    mapping = quadratic_config(slices)
    mapping["name"] = "underdamped"
    mapping["path"].update(
        action="underdamped", friction=1.0, initial_velocity={"mean": 0.5}
    )
    return mapping


def periodic_config(slices):
    """A double well on a periodic euclidean path."""
    return {
        "name": "periodic",
        "seed": 0,
        "generator": {
            "family": "gaussian",
            "start": {"mean": -1.0, "width": 1.0},
            "free": ["mean"],
        },
        "potential": {"kind": "polynomial", "coefficients": [1.0, 0.0, -2.0, 0.0, 1.0]},
        "path": {
            "action": "euclidean",
            "slices": slices,
            "duration": 8.0,
            "end": "periodic",
        },
        "noise": {"scale": 1.0},
    }


def faithful_config(slices):
    """``experiments/faithful.toml`` as a mapping, with ``slices`` time slices."""
    with open(FAITHFUL_CONFIG, "rb") as handle:
        mapping = tomllib.load(handle)
    mapping["path"]["slices"] = slices
    return mapping


CONFIGS = {
    "quadratic": quadratic_config,
    "faithful": faithful_config,
    "underdamped": underdamped_config,
    "periodic": periodic_config,
}


def problem_for(name, slices):
    """The validated config and the :class:`pathgan.PathProblem` of a problem."""
    config = parse_config(CONFIGS[name](slices))
    return config, build_problem(config, build_target(config, ROOT))


def tree_depth_cap(settings, parameterization, slices):
    """The NUTS tree-depth cap of one run."""
    if parameterization == "plain" and slices >= LARGE_SLICES:
        return settings["plain_depth"]
    return DEFAULT_DEPTH


def iterations(settings, cap):
    """Warmup and kept draws per chain of a run with tree-depth cap ``cap``.

    Runs capped below :data:`DEFAULT_DEPTH` take ``capped_warmup`` and
    ``capped_draws`` where those are set: a saturated trajectory costs
    ``2**cap - 1`` gradients per draw, which can be unaffordable.
    """
    warmup, draws = settings["warmup"], settings["draws"]
    if cap < DEFAULT_DEPTH:
        warmup = settings.get("capped_warmup") or warmup
        draws = settings.get("capped_draws") or draws
    return warmup, draws


def measure(name, slices, parameterization, settings):
    """Sample one configuration and return its row of results."""
    started = time.perf_counter()
    config, problem = problem_for(name, slices)
    cap = tree_depth_cap(settings, parameterization, slices)
    warmup, draws = iterations(settings, cap)
    idata = sample_paths(
        problem,
        jax.random.PRNGKey(config.seed),
        num_chains=settings["chains"],
        num_warmup=warmup,
        num_samples=draws,
        parameterization=parameterization,
        max_tree_depth=cap,
    )
    found = diagnostics(problem, idata)
    stats = idata.sample_stats
    gradients = int(stats.attrs["gradient_evaluations"])
    seconds = float(stats.attrs["seconds"])
    ess = found["ess_bulk_min"]
    return {
        "problem": name,
        "slices": slices,
        "sampler": parameterization,
        "iterations": f"{warmup}+{draws}",
        "cap": cap,
        "ess": ess,
        "gradients": gradients,
        "ess_per_gradient": ess / gradients,
        "ess_per_second": ess / seconds,
        "ms_per_gradient": 1e3 * seconds / (
            gradients + int(stats.attrs["warmup_gradient_evaluations"])
        ),
        "tree_depth": float(stats["tree_depth"].mean()),
        "saturated": found["tree_depth_saturated"],
        "draws": settings["chains"] * draws,
        "divergences": found["divergences"],
        "rhat": found["rhat_max"],
        "step_size": float(stats["step_size"].mean()),
        "seconds": seconds,
        "wall": time.perf_counter() - started,
    }


def format_cell(key, row):
    """One table cell."""
    value = row[key]
    if key == "saturated":
        return f"{value} / {row['draws']}"
    if key in ("ess_per_gradient", "step_size", "ms_per_gradient"):
        return f"{value:.3g}"
    if key in ("ess", "ess_per_second", "seconds", "wall"):
        return f"{value:.1f}"
    if key == "tree_depth":
        return f"{value:.2f}"
    if key == "rhat":
        return f"{value:.3f}"
    return str(value)


def results_table(rows):
    """The rows as a markdown table."""
    lines = [
        "| " + " | ".join(title for title, _ in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(format_cell(k, row) for _, k in COLUMNS) + " |")
    return "\n".join(lines)


def lookup(rows, name, slices, parameterization):
    """The row of one configuration, or ``None``."""
    for row in rows:
        if (row["problem"], row["slices"], row["sampler"]) == (
            name, slices, parameterization
        ):
            return row
    return None


def ratios(rows):
    """Whitened/plain ESS per gradient per K and whitened flatness in K.

    Returns a list of ``(problem, {K: ratio}, (K_lo, K_hi, ratio) or None,
    smallest whitened ESS per gradient)``.
    """
    found = []
    for name in dict.fromkeys(row["problem"] for row in rows):
        slices = sorted({row["slices"] for row in rows if row["problem"] == name})
        versus = {}
        for count in slices:
            white = lookup(rows, name, count, "whitened")
            plain = lookup(rows, name, count, "plain")
            if white and plain:
                versus[count] = white["ess_per_gradient"] / plain["ess_per_gradient"]
        whitened = [lookup(rows, name, k, "whitened") for k in slices]
        whitened = [row for row in whitened if row is not None]
        flat = None
        if len(whitened) >= 2:
            low, high = whitened[0], whitened[-1]
            flat = (
                low["slices"],
                high["slices"],
                high["ess_per_gradient"] / low["ess_per_gradient"],
            )
        lowest = min((row["ess_per_gradient"] for row in whitened), default=None)
        found.append((name, versus, flat, lowest))
    return found


def ratio_lines(rows):
    """The ratios and the targets as markdown bullet lines."""
    lines = []
    for name, versus, flat, lowest in ratios(rows):
        parts = ", ".join(f"K={k}: {r:.3g}" for k, r in versus.items())
        lines.append(f"- `{name}`, whitened / plain ESS per gradient: {parts or 'n/a'}")
        if flat is not None:
            low, high, value = flat
            verdict = "holds" if 0.5 <= value <= 2.0 else "fails"
            lines.append(
                f"- `{name}`, whitened ESS per gradient at K={high} over K={low}: "
                f"{value:.3g} (target: within a factor 2, i.e. in [0.5, 2]; {verdict})"
            )
        if name == "quadratic" and lowest is not None:
            verdict = "holds" if lowest >= 0.05 else "fails"
            lines.append(
                f"- `quadratic`, smallest whitened ESS per gradient over K: "
                f"{lowest:.3g} (target: at least 0.05; {verdict})"
            )
    return lines


def cpu_model():
    """The CPU model name from ``/proc/cpuinfo``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_lines(load):
    """The machine and library versions as markdown bullet lines."""
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("jax", "jaxlib", "numpyro", "arviz")
    )
    return [
        f"- CPUs (`nproc`): {len(os.sched_getaffinity(0))}; "
        f"model (`/proc/cpuinfo`): {cpu_model()}",
        f"- JAX backend: {jax.default_backend()}, float64; {libraries}; "
        f"Python {platform.python_version()}",
        f"- load average (1, 5, 15 min) when the run started: "
        f"{', '.join(f'{x:.2f}' for x in load)} (the machine is shared, so seconds "
        "are noisy; ESS per gradient is not affected)",
    ]


def settings_lines(settings, problems):
    """The sampler settings per problem as markdown bullet lines."""
    lines = []
    for name in problems:
        s = settings[name]
        line = (
            f"- `{name}`: {s['chains']} chains (vectorized), {s['warmup']} warmup "
            f"and {s['draws']} kept draws per chain, target acceptance 0.8, "
            f"tree-depth cap {DEFAULT_DEPTH}"
        )
        if s["plain_depth"] != DEFAULT_DEPTH:
            line += (
                f" except the plain sampler at K >= {LARGE_SLICES}: "
                f"{s['plain_depth']}"
            )
        if s["plain_depth"] < DEFAULT_DEPTH:
            warmup, draws = iterations(s, s["plain_depth"])
            line += f", which runs {warmup} warmup and {draws} kept draws per chain"
        lines.append(line + "; seed 0 for both samplers")
    return lines


def kept_notes(path):
    """Text after :data:`NOTES_MARKER` in an existing output file."""
    try:
        text = Path(path).read_text()
    except OSError:
        return ""
    _, marker, notes = text.partition(NOTES_MARKER)
    return notes.strip("\n") if marker else ""


def document(rows, settings, problems, command, load, total_seconds, notes):
    """The whole markdown report."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmark: ESS per gradient of the whitened and plain samplers",
        "",
        "Produced by `benchmarks/ess_per_gradient.py` (see its docstring); "
        f"finished {stamp}, total run time {total_seconds / 60:.1f} min.",
        "",
        "## What is measured",
        "",
        "Each configuration draws the path ensemble with "
        "`pathgan.sampling.sample_paths` (NumPyro NUTS), once with "
        '`parameterization="whitened"` and once with `"plain"`, all other '
        "settings equal.",
        "",
        "- **ESS bulk min**: the smallest bulk ESS over every sampled path "
        "coordinate (moving slices x free coordinates), "
        '`pathgan.sampling.diagnostics(problem, idata)["ess_bulk_min"]`.',
        "- **gradients (kept)**: leapfrog steps of the kept draws, summed over "
        'chains (`idata.sample_stats.attrs["gradient_evaluations"]`); warmup '
        "gradients are not counted.",
        "- **ESS / gradient** = ESS bulk min / gradients (kept).",
        "- **ESS / s** = ESS bulk min / sampler seconds; the **sampler s** "
        '(`idata.sample_stats.attrs["seconds"]`) include warmup and JIT '
        "compilation, so ESS / s understates the steady-state rate, most for "
        "short runs.",
        "- **ms / gradient** = sampler seconds / all gradient evaluations "
        "(warmup and kept, all chains advancing together), compilation "
        "included: the cost of one gradient of the vectorized chains.",
        "- **mean tree depth** over kept draws; **cap** is the NUTS "
        "`max_tree_depth` of the run and **draws at cap** the kept draws whose "
        "trajectory used all `2**cap - 1` leapfrog steps.",
        "- **step size**: the adapted NUTS step size (mean over chains); "
        "**R-hat max**: the largest split R-hat over the sampled coordinates.",
        "- **wall s**: the whole configuration (problem set-up, gradient flow and "
        "minimum-action path, sampling, diagnostics).",
        "",
        "Problems: `quadratic` is V = m^2/2 on the mean of a gaussian generator "
        "(width fixed at 1) started at m = 1, Onsager-Machlup action, free end, "
        "T = 4, noise scale 0.1; `faithful` is `experiments/faithful.toml` (GAN "
        "potential on standardized Old Faithful eruptions, mean and width free, "
        "fixed end, T = 8, noise scale 0.01) with `slices = K`; "
        "`underdamped` is the quadratic problem with the underdamped action "
        "(friction 1, initial velocity 0.5); `periodic` is the double well "
        "V = (m^2 - 1)^2 on a periodic euclidean path, T = 8, noise scale 1.",
        "",
        "## Command",
        "",
        "```",
        command,
        "```",
        "",
        *settings_lines(settings, problems),
        "",
        "## Machine",
        "",
        *machine_lines(load),
        "",
        "## Results",
        "",
        results_table(rows),
        "",
        "## Ratios and targets",
        "",
        *ratio_lines(rows),
        "",
        NOTES_MARKER,
    ]
    if notes:
        parts += ["", notes]
    return "\n".join(parts) + "\n"


def parse_arguments(argv=None):
    """The command line."""
    parser = argparse.ArgumentParser(
        description="ESS per gradient of the whitened and plain NUTS samplers."
    )
    parser.add_argument(
        "--problems", nargs="+", choices=PROBLEMS, default=list(PROBLEMS),
        help="problems to run (default: all)",
    )
    parser.add_argument(
        "--slices", nargs="+", type=int, default=None,
        help="time slices K (default: 32 128 512; with --quick: 32 128)",
    )
    parser.add_argument(
        "--samplers", nargs="+", choices=PARAMETERIZATIONS,
        default=list(PARAMETERIZATIONS), help="parameterizations (default: both)",
    )
    parser.add_argument("--chains", type=int, help="chains (default: 2)")
    parser.add_argument(
        "--warmup", type=int,
        help="warmup iterations per chain (default: quadratic 300, faithful 400)",
    )
    parser.add_argument(
        "--draws", type=int,
        help="kept draws per chain (default: quadratic 300, faithful 400)",
    )
    parser.add_argument(
        "--max-tree-depth", type=int,
        help=f"tree-depth cap of the plain sampler at K >= {LARGE_SLICES} "
        "(default: quadratic 10, faithful 8); every other run uses 10",
    )
    parser.add_argument(
        "--capped-warmup", type=int,
        help="warmup iterations per chain of the runs whose tree-depth cap is below "
        f"{DEFAULT_DEPTH} (default: faithful 20, quadratic as --warmup)",
    )
    parser.add_argument(
        "--capped-draws", type=int,
        help="kept draws per chain of the runs whose tree-depth cap is below "
        f"{DEFAULT_DEPTH} (default: faithful 20, quadratic as --draws)",
    )
    parser.add_argument(
        "--quick", action="store_true",
        help="K in {32, 128} and fewer draws (quadratic 200+200, faithful 100+100)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
        help="markdown output (default: docs/benchmarks.md)",
    )
    return parser.parse_args(argv)


def chosen_settings(arguments):
    """Per-problem settings after the command-line overrides."""
    base = QUICK_SETTINGS if arguments.quick else SETTINGS
    settings = {}
    for name, values in base.items():
        if name not in arguments.problems:
            continue
        values = dict(values)
        for key, given in (
            ("chains", arguments.chains),
            ("warmup", arguments.warmup),
            ("draws", arguments.draws),
            ("plain_depth", arguments.max_tree_depth),
            ("capped_warmup", arguments.capped_warmup),
            ("capped_draws", arguments.capped_draws),
        ):
            if given is not None:
                values[key] = given
        settings[name] = values
    return settings


def command_line():
    """The command that is running, as it could be typed in the repository root."""
    return shlex.join(["python", *sys.argv])


def main(argv=None):
    """Run every configuration, print progress to stderr and write the report."""
    arguments = parse_arguments(argv)
    slices = arguments.slices or (QUICK_SLICES if arguments.quick else SLICES)
    settings = chosen_settings(arguments)
    load = os.getloadavg()
    command = command_line()
    started = time.perf_counter()
    rows = []
    plan = [
        (name, count, kind)
        for name in arguments.problems
        for count in slices
        for kind in arguments.samplers
    ]
    for index, (name, count, kind) in enumerate(plan, start=1):
        print(
            f"[{index}/{len(plan)}] {name} K={count} {kind}: sampling ...",
            file=sys.stderr, flush=True,
        )
        row = measure(name, count, kind, settings[name])
        rows.append(row)
        print(
            f"[{index}/{len(plan)}] {name} K={count} {kind}: "
            f"ESS/grad {row['ess_per_gradient']:.3g}, ESS {row['ess']:.0f}, "
            f"depth {row['tree_depth']:.2f} (cap {row['cap']}, "
            f"{row['saturated']} at cap), step {row['step_size']:.3g}, "
            f"{row['divergences']} divergent, {row['wall']:.0f} s "
            f"(elapsed {(time.perf_counter() - started) / 60:.1f} min)",
            file=sys.stderr, flush=True,
        )
    total = time.perf_counter() - started
    notes = kept_notes(arguments.out)
    text = document(
        rows, settings, arguments.problems, command, load, total, notes
    )
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(text)
    print(results_table(rows), file=sys.stderr)
    print("\n".join(ratio_lines(rows)), file=sys.stderr)
    print(f"wrote {arguments.out} ({total / 60:.1f} min)", file=sys.stderr)


if __name__ == "__main__":
    main()
