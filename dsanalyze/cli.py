"""The ``dsanalyze`` command.

``dsanalyze models`` lists the model library; ``dsanalyze show NAME`` prints a
model's equations as text and as LaTeX, with its parameters and source;
``dsanalyze report MODEL_OR_FILE -o DIR`` analyses a library model or a model
file, checks every result and writes the LaTeX report (and its PDF).

Exit codes: 0 on success (for ``report``: every verdict passed), 1 when a
verdict failed, 2 on bad input (unknown model, malformed model file, bad
arguments), 3 when LaTeX could not build the PDF.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings

from . import __version__, models
from .errors import DsAnalyzeError, ReportBuildError, TeXNotFoundWarning

__all__ = ["main"]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _cmd_models(args: argparse.Namespace) -> int:
    rows = []
    for key, build in models.LIBRARY.items():
        system = build()
        rows.append((key.replace("_", "-"), system.kind, str(system.dim), _first_line(build.__doc__)))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for name, kind, dim, summary in rows:
        print(f"{name:<{widths[0]}}  {kind:<{widths[1]}}  dim {dim:<{widths[2]}}  {summary}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    system = models.get(args.name)
    print(f"{system.name} ({system.kind}, dimension {system.dim})")
    if system.description:
        print(textwrap.fill(system.description, 78))
    print()
    for line in system.equations():
        print("  " + line)
    params = ", ".join(
        f"{p}" + (f" (default {system.defaults[p]})" if p in system.defaults else "") for p in system.params
    )
    print(f"\nparameters: {params or 'none'}")
    if system.loss is not None:
        print(f"loss: {system.loss}")
    print(f"source: {system.reference}")
    print("\nLaTeX:")
    print(system.latex())
    return 0


def _load(target: str):
    """A library model by name, or a model file (a path, or a name ending in .toml)."""
    from .modelfile import Model, load_model

    if target.endswith(".toml") or os.sep in target or os.path.isfile(target):
        return load_model(target)
    return Model(models.get(target), path=target)


def _cmd_report(args: argparse.Namespace) -> int:
    from .analysis import analyze

    model = _load(args.model)
    ranges = dict(model.ranges)
    param = args.param or model.param
    if args.range is not None:
        lo, hi = args.range
        if param is None:
            from .analysis.window import resolve_window

            swept = resolve_window(model.system, None, ranges).param
            if swept is None:
                raise DsAnalyzeError("--range needs --param: the model has no parameter to sweep by default")
            param = swept.name
        ranges[param] = (lo, hi)
    if args.timeout is not None and not args.timeout > 0:
        raise DsAnalyzeError(f"--timeout must be a positive number of seconds, got {args.timeout}")
    analysis = analyze(model.system, param, ranges, args.timeout, seed=args.seed)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TeXNotFoundWarning)
            path = analysis.report(args.output, pdf=not args.no_pdf)
    except ReportBuildError as exc:
        print(f"dsanalyze: error: {exc}", file=sys.stderr)
        print(f"dsanalyze: report.tex and report.log are kept in {args.output}", file=sys.stderr)
        return 3
    for warning in caught:
        if issubclass(warning.category, TeXNotFoundWarning):
            print(f"dsanalyze: {warning.message}", file=sys.stderr)
    verdicts = analysis.verdicts
    print(f"{path}: {len(verdicts)} checks: {sum(v.passed is True for v in verdicts)} passed, "
          f"{len(analysis.failed)} failed, {len(analysis.unchecked)} unchecked")
    for verdict in analysis.failed:
        print(f"  FAILED: {verdict}")
    return 0 if analysis.passed else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsanalyze",
        description="Dynamical systems: SymPy derives the analytic facts, compiled kernels verify them.",
    )
    parser.add_argument("--version", action="version", version=f"dsanalyze {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("models", help="list the model library").set_defaults(run=_cmd_models)
    show = sub.add_parser("show", help="print a model's equations as text and LaTeX")
    show.add_argument("name", help="a model of the library, e.g. two-factor (see: dsanalyze models)")
    show.set_defaults(run=_cmd_show)
    report = sub.add_parser("report", help="analyse a model, check every result, write the LaTeX report (PDF)")
    report.add_argument("model", metavar="MODEL_OR_FILE",
                        help="a model of the library (see: dsanalyze models) or a TOML model file")
    report.add_argument("-o", "--output", required=True, metavar="DIR", help="directory for report.tex/pdf")
    report.add_argument("--param", help="the parameter to sweep (default: the model's suggestion)")
    report.add_argument("--range", nargs=2, type=float, metavar=("A", "B"), help="range of the swept parameter")
    report.add_argument("--no-pdf", action="store_true", help="write report.tex and figures only")
    report.add_argument("--timeout", type=float, default=20.0, metavar="S",
                        help="seconds for each symbolic derivation (default 20)")
    report.add_argument("--seed", type=int, default=0, help="seed of the random samples of the checks")
    report.set_defaults(run=_cmd_report)
    from .epidemic_command import add_parser as add_epidemic_parser

    add_epidemic_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except DsAnalyzeError as exc:
        print(f"dsanalyze: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
