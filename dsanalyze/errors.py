"""Exceptions raised by dsanalyze.

Every error says what was wrong and what to do about it. All derive from
:class:`DsAnalyzeError`, so ``except ds.errors.DsAnalyzeError`` catches them all.
"""

__all__ = [
    "DsAnalyzeError",
    "ExpressionError",
    "UnknownSymbolError",
    "DimensionError",
    "ParameterError",
    "MissingParameterError",
    "ExtraParameterError",
    "NonFiniteInputError",
    "NotInvariantError",
    "CompilerNotFoundError",
    "CompilationError",
    "IntegrationError",
    "UnknownModelError",
    "SymbolicTimeout",
    "NotAFixedPointError",
    "RegionError",
    "ReportBuildError",
    "TeXNotFoundWarning",
    "ModelFileError",
    "TrainingError",
    "GraphError",
    "DirectedGraphError",
    "SelfLoopError",
    "EdgeWeightError",
    "EmptyGraphError",
    "InitialInfectedError",
]


class DsAnalyzeError(Exception):
    """Base class of every error raised by dsanalyze."""


class ExpressionError(DsAnalyzeError, ValueError):
    """An expression could not be parsed or uses something that is not allowed."""


class UnknownSymbolError(DsAnalyzeError, ValueError):
    """An expression uses a symbol that is neither a state variable nor a parameter."""


class DimensionError(DsAnalyzeError, ValueError):
    """An array or a list of expressions has the wrong shape or length."""


class ParameterError(DsAnalyzeError, ValueError):
    """A parameter value is malformed (wrong shape, not a number)."""


class MissingParameterError(ParameterError):
    """A parameter of the system was given no value and has no default."""


class ExtraParameterError(ParameterError):
    """A value was given for a name that is not a parameter of the system."""


class NonFiniteInputError(DsAnalyzeError, ValueError):
    """An initial state or a parameter value is NaN or infinite."""


class NotInvariantError(DsAnalyzeError, ValueError):
    """A restriction was asked onto a subspace that the system does not leave invariant."""


class CompilerNotFoundError(DsAnalyzeError, RuntimeError):
    """No C compiler is available to build a kernel."""


class CompilationError(DsAnalyzeError, RuntimeError):
    """The C compiler rejected generated kernel code."""


class IntegrationError(DsAnalyzeError, RuntimeError):
    """An ODE integration could not reach the requested time (step size underflow)."""


class UnknownModelError(DsAnalyzeError, KeyError):
    """A name was asked of the model library that it does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SymbolicTimeout(DsAnalyzeError, TimeoutError):
    """A symbolic derivation ran past its time budget."""

    def __init__(self, step: str, seconds: float):
        super().__init__(f"{step} ran past its budget of {seconds:g} s; raise timeout= or use the numeric fallback")
        self.step = step
        self.seconds = seconds


class NotAFixedPointError(DsAnalyzeError, ValueError):
    """The point handed to a derivation is not a fixed point (map) or an equilibrium (flow) of the system."""


class RegionError(DsAnalyzeError, ValueError):
    """A condition could not be solved exactly for its parameter (SymPy left a ConditionSet)."""


class ReportBuildError(DsAnalyzeError, RuntimeError):
    """LaTeX could not build the report's PDF; ``log_lines`` holds the relevant lines of its log.

    The ``report.tex`` (and ``report.log``) stay in the output directory for inspection.
    """

    def __init__(self, message: str, log_lines: list[str] | None = None):
        self.log_lines = list(log_lines or [])
        detail = "\n".join(self.log_lines)
        super().__init__(message + (f"\n{detail}" if detail else ""))


class TeXNotFoundWarning(UserWarning):
    """No LaTeX was found: the report's .tex and figures were written, the PDF was not."""


class ModelFileError(DsAnalyzeError, ValueError):
    """A model file could not be read or is malformed; the message names the field (and line)."""


class TrainingError(DsAnalyzeError, ValueError):
    """A network, data set or training setting is malformed (sizes, shapes, learning rate, batch)."""


class GraphError(DsAnalyzeError, ValueError):
    """A contact network cannot be used for an epidemic (see the subclasses)."""


class DirectedGraphError(GraphError):
    """A directed graph (or a non-symmetric adjacency matrix) was given where contacts are undirected."""


class SelfLoopError(GraphError):
    """The graph has an edge from a node to itself."""


class EdgeWeightError(GraphError):
    """An edge weight is negative, NaN or infinite."""


class EmptyGraphError(GraphError):
    """The graph has no nodes."""


class InitialInfectedError(GraphError):
    """Initially infected nodes are out of range, or more than the graph has."""
