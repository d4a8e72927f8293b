"""The ``pathgan`` command line.

``pathgan run CONFIG [--out DIR] [--force]`` samples one experiment;
``pathgan plot DIR`` redraws the figures of a finished run. Bad input ends
with a one-line message and exit code 2; a failure while sampling with exit
code 1.
"""

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

EXIT_INPUT = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

log = logging.getLogger("pathgan")


def _parser():
    parser = argparse.ArgumentParser(
        prog="pathgan",
        description="Sample GAN training paths as a path integral on W2 space.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="sample one experiment from a TOML config")
    run.add_argument("config", type=Path, help="the experiment's TOML file")
    run.add_argument(
        "--out",
        type=Path,
        default=None,
        help="result folder (default: results/<config name>)",
    )
    run.add_argument(
        "--force", action="store_true", help="replace an existing result folder"
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the sampler's progress bar (default: on a terminal)",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    plot = commands.add_parser("plot", help="redraw the figures of a result folder")
    plot.add_argument("folder", type=Path)
    plot.add_argument("-q", "--quiet", action="store_true", help="log warnings only")
    return parser


def _fail(message, code):
    print(f"pathgan: error: {message}", file=sys.stderr)
    return code


def _run(args):
    from pathgan.config import ConfigError, load_config
    from pathgan.data import DataError
    from pathgan.experiment import ResultExistsError, run_experiment
    from pathgan.sampling import NonFiniteStartError

    try:
        config = load_config(args.config)
    except ConfigError as error:
        return _fail(f"{args.config}: {error}", EXIT_INPUT)
    out = args.out or Path("results") / args.config.stem
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    try:
        summary = run_experiment(
            config,
            out,
            force=args.force,
            progress=progress,
            base_dir=args.config.resolve().parent,
            config_text=args.config.read_text(),
        )
    except (ResultExistsError, DataError) as error:
        return _fail(str(error), EXIT_INPUT)
    except NonFiniteStartError as error:
        return _fail(str(error), EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail(f"interrupted; {out} was not written", EXIT_INTERRUPTED)
    diag = summary["diagnostics"]
    log.info(
        "done in %.1f s: R-hat max %.4f, bulk ESS min %.0f, %d divergences, "
        "%d gradient evaluations",
        diag["seconds"],
        diag["rhat_max"],
        diag["ess_bulk_min"],
        diag["divergences"],
        diag["gradient_evaluations"],
    )
    if diag["divergences"]:
        log.warning("%d divergent transitions", diag["divergences"])
    if diag.get("tree_depth_saturated"):
        log.warning("%d draws hit the maximum tree depth", diag["tree_depth_saturated"])
    if diag["rhat_max"] > 1.01:
        log.warning(
            "R-hat %.3f > 1.01: the chains disagree; sample longer", diag["rhat_max"]
        )
    print(out)
    return 0


def _plot(args):
    import shutil

    import arviz as az

    from pathgan.config import ConfigError, parse_config
    from pathgan.experiment import (
        build_problem,
        build_target,
        hop_analysis,
        temporary_folder,
        write_figures,
    )

    path = args.folder / "paths.nc"
    if not path.is_file():
        return _fail(
            f"{path} not found: is {args.folder} a pathgan result folder?", EXIT_INPUT
        )
    idata = az.from_netcdf(str(path))
    try:
        config = parse_config(json.loads(idata.posterior.attrs["config"]))
    except (KeyError, ConfigError) as error:
        return _fail(f"{path} has no usable config: {error}", EXIT_INPUT)
    base_dir = Path(idata.posterior.attrs.get("base_dir", "."))
    target = build_target(config, base_dir)
    problem = build_problem(config, target)
    hop = hop_analysis(problem, idata)
    temporary = temporary_folder(args.folder, ".figures.tmp-")
    try:
        write_figures(temporary, problem, target, idata, hop[1] if hop else None)
        old = args.folder / "figures"
        if old.exists():
            shutil.rmtree(old)
        temporary.rename(old)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    print(args.folder / "figures")
    return 0


def main(argv=None):
    """Entry point of the ``pathgan`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="pathgan: %(message)s",
    )
    # JAX logs its search for accelerators at INFO, and ArviZ announces its
    # refactor once a day on import; neither is news to a pathgan user.
    logging.getLogger("jax").setLevel(logging.WARNING)
    warnings.filterwarnings(
        "ignore", message=r"\s*ArviZ is undergoing", category=FutureWarning
    )
    import pathgan  # noqa: F401  (float64 before any array exists)

    if args.command == "run":
        return _run(args)
    return _plot(args)


if __name__ == "__main__":
    sys.exit(main())
