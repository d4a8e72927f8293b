"""The ``pathgan`` command line.

``pathgan run CONFIG [--out DIR] [--force]`` samples one experiment;
``pathgan plot DIR`` redraws the figures of a finished run. Bad input ends
with a one-line message and exit code 2; a failure while sampling with exit
code 1.
"""

import argparse
import json
import logging
import shutil
import sys
import warnings
from pathlib import Path

EXIT_INPUT = 2
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

log = logging.getLogger("pathgan")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error."""

    def error(self, message):
        command = self.prog.removeprefix("pathgan").strip()
        where = f"{command}: " if command else ""
        self.exit(
            EXIT_INPUT,
            f"pathgan: error: {where}{message} (see '{self.prog} --help')\n",
        )


def _parser():
    parser = _Parser(
        prog="pathgan",
        description="Sample GAN training paths as a path integral on W2 space.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )
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
    from pathgan.experiment import OutputError, run_experiment, show_path
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
    except (OutputError, DataError) as error:
        return _fail(str(error), EXIT_INPUT)
    except NonFiniteStartError as error:
        return _fail(str(error), EXIT_FAILURE)
    except OSError as error:
        return _fail(
            f"writing {show_path(out)} failed: {error}; nothing was written",
            EXIT_FAILURE,
        )
    except KeyboardInterrupt:
        return _fail(f"interrupted; {show_path(out)} was not written", EXIT_INTERRUPTED)
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
    import arviz as az

    from pathgan.config import parse_config
    from pathgan.data import DataError
    from pathgan.experiment import (
        build_problem,
        build_target,
        hop_analysis,
        instanton_analysis,
        replace_output,
        show_path,
        temporary_folder,
        write_figures,
    )

    path = args.folder / "paths.nc"
    shown = show_path(path)
    if not path.is_file():
        return _fail(
            f"{shown} not found: is {show_path(args.folder)} a pathgan result folder?",
            EXIT_INPUT,
        )
    try:
        idata = az.from_netcdf(str(path))
        config = parse_config(json.loads(idata.posterior.attrs["config"]))
    except (OSError, ValueError, KeyError, AttributeError) as error:
        reason = (str(error).splitlines() or [type(error).__name__])[0]
        return _fail(f"{shown} is not a readable pathgan result: {reason}", EXIT_INPUT)
    base_dir = Path(idata.posterior.attrs.get("base_dir", "."))
    try:
        target = build_target(config, base_dir)
    except DataError as error:
        return _fail(f"the data of {shown} cannot be read again: {error}", EXIT_INPUT)
    problem = build_problem(config, target)
    hop = hop_analysis(problem, idata)
    found = instanton_analysis(config, problem)
    try:
        temporary = temporary_folder(args.folder, ".figures.tmp-")
    except OSError as error:
        reason = error.strerror or str(error)
        return _fail(f"cannot write in {show_path(args.folder)}: {reason}", EXIT_INPUT)
    try:
        write_figures(temporary, problem, target, idata, hop[1] if hop else None, found)
        replace_output(temporary, args.folder / "figures")
    except OSError as error:
        return _fail(f"redrawing the figures failed: {error}", EXIT_FAILURE)
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
