"""Compartmental epidemic models of the library (fractions of a population)."""
from __future__ import annotations

import sympy as sp

from ..systems import Flow

__all__ = ["sir", "seir"]


def sir() -> Flow:
    r"""The Kermack-McKendrick SIR model in population fractions.

    .. math::
        \dot S = -\beta S I, \quad \dot I = \beta S I - \gamma I, \quad \dot R = \gamma I

    R0 = beta / gamma; the final size z solves z = 1 - exp(-R0 z).

    Source: W. O. Kermack and A. G. McKendrick, "A contribution to the
    mathematical theory of epidemics", Proc. R. Soc. A 115, 700-721 (1927).
    """
    S, I, R = sp.symbols("S I R", real=True)
    beta, gamma = sp.symbols("beta gamma", positive=True)
    return Flow((S, I, R), (-beta * S * I, beta * S * I - gamma * I, gamma * I), (beta, gamma),
                name="sir", description="SIR epidemic (fractions), no vital dynamics",
                reference="Kermack & McKendrick, Proc. R. Soc. A 115, 700-721 (1927)")


def seir() -> Flow:
    r"""The SEIR model with births and deaths at equal rate mu (constant population).

    .. math::
        \dot S = \mu - \beta S I - \mu S, \quad
        \dot E = \beta S I - (\sigma + \mu) E, \quad
        \dot I = \sigma E - (\gamma + \mu) I, \quad
        \dot R = \gamma I - \mu R

    R0 = beta sigma / ((sigma + mu)(gamma + mu)).

    Source: R. M. Anderson and R. M. May, *Infectious Diseases of Humans*
    (Oxford, 1991); H. W. Hethcote, "The mathematics of infectious diseases",
    SIAM Rev. 42, 599-653 (2000).
    """
    S, E, I, R = sp.symbols("S E I R", real=True)
    beta, sigma, gamma, mu = sp.symbols("beta sigma gamma mu", positive=True)
    return Flow(
        (S, E, I, R),
        (mu - beta * S * I - mu * S, beta * S * I - (sigma + mu) * E, sigma * E - (gamma + mu) * I, gamma * I - mu * R),
        (beta, sigma, gamma, mu),
        name="seir", description="SEIR epidemic with births and deaths (fractions)",
        reference="Anderson & May (1991); Hethcote, SIAM Rev. 42, 599-653 (2000)",
    )
