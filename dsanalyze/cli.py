"""The ``dsanalyze`` command.

``dsanalyze models`` lists the model library; ``dsanalyze show NAME`` prints a
model's equations as text and as LaTeX, with its parameters and source.
Exit codes: 0 on success, 2 on bad input (unknown model, bad arguments).
"""
from __future__ import annotations

import argparse
import sys
import textwrap

from . import __version__, models
from .errors import DsAnalyzeError

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
