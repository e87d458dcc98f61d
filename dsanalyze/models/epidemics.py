"""Compartmental epidemic models of the library (fractions of a population)."""
from __future__ import annotations

import sympy as sp

from ..systems import Flow

__all__ = ["sir", "sis", "sir_vital", "seir", "seirs"]


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


def sis() -> Flow:
    r"""The SIS model in population fractions: recovery gives no immunity.

    .. math::
        \dot S = -\beta S I + \gamma I, \quad \dot I = \beta S I - \gamma I

    R0 = beta / gamma; for R0 > 1 the endemic equilibrium is I* = 1 - 1/R0.

    Source: H. W. Hethcote, "The mathematics of infectious diseases",
    SIAM Rev. 42, 599-653 (2000), Sec. 2.
    """
    S, I = sp.symbols("S I", real=True)
    beta, gamma = sp.symbols("beta gamma", positive=True)
    return Flow((S, I), (-beta * S * I + gamma * I, beta * S * I - gamma * I), (beta, gamma),
                name="sis", description="SIS epidemic (fractions), no immunity",
                reference="Hethcote, SIAM Rev. 42, 599-653 (2000)")


def sir_vital() -> Flow:
    r"""The SIR model with births and deaths at equal rate mu (constant population).

    .. math::
        \dot S = \mu - \beta S I - \mu S, \quad
        \dot I = \beta S I - (\gamma + \mu) I, \quad
        \dot R = \gamma I - \mu R

    R0 = beta / (gamma + mu); for R0 > 1 the endemic equilibrium has S* = 1/R0.

    Source: H. W. Hethcote, "Qualitative analyses of communicable disease
    models", Math. Biosci. 28, 335-356 (1976); Hethcote, SIAM Rev. 42 (2000), Sec. 2.
    """
    S, I, R = sp.symbols("S I R", real=True)
    beta, gamma, mu = sp.symbols("beta gamma mu", positive=True)
    return Flow(
        (S, I, R),
        (mu - beta * S * I - mu * S, beta * S * I - (gamma + mu) * I, gamma * I - mu * R),
        (beta, gamma, mu),
        name="sir-vital", description="SIR epidemic with births and deaths (fractions)",
        reference="Hethcote, Math. Biosci. 28, 335-356 (1976); SIAM Rev. 42, 599-653 (2000)",
    )


def seirs() -> Flow:
    r"""The SEIRS model: SEIR with births and deaths (rate mu) and waning immunity (rate omega).

    .. math::
        \dot S = \mu - \beta S I - \mu S + \omega R, \quad
        \dot E = \beta S I - (\sigma + \mu) E, \quad
        \dot I = \sigma E - (\gamma + \mu) I, \quad
        \dot R = \gamma I - (\mu + \omega) R

    R0 = beta sigma / ((sigma + mu)(gamma + mu)), as for SEIR: waning
    immunity does not change the invasion threshold.

    Source: H. W. Hethcote, SIAM Rev. 42, 599-653 (2000); M. Y. Li, J. R. Graef,
    L. Wang and J. Karsai, "Global dynamics of a SEIR model with varying total
    population size", Math. Biosci. 160, 191-213 (1999).
    """
    S, E, I, R = sp.symbols("S E I R", real=True)
    beta, sigma, gamma, mu, omega = sp.symbols("beta sigma gamma mu omega", positive=True)
    return Flow(
        (S, E, I, R),
        (mu - beta * S * I - mu * S + omega * R, beta * S * I - (sigma + mu) * E, sigma * E - (gamma + mu) * I,
         gamma * I - (mu + omega) * R),
        (beta, sigma, gamma, mu, omega),
        name="seirs", description="SEIRS epidemic with births, deaths and waning immunity (fractions)",
        reference="Hethcote, SIAM Rev. 42, 599-653 (2000)",
    )
