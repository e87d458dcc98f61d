"""Named systems from the literature.

Every constructor returns a fresh :class:`~dsanalyze.systems.Map` or
:class:`~dsanalyze.systems.Flow` whose docstring gives its equations and its
source. :func:`get` looks a model up by name (``"two-factor"`` and
``"two_factor"`` both work); :data:`LIBRARY` lists them all.
"""
from __future__ import annotations

from ..errors import UnknownModelError
from ..systems import System
from .epidemics import seir, seirs, sir, sir_vital, sis
from .flows import lorenz
from .maps import cubic, double_well_gd, henon, logistic, ring_gd, standard_map, two_factor

__all__ = [
    "two_factor", "cubic", "double_well_gd", "ring_gd", "logistic", "henon", "standard_map",
    "lorenz", "sir", "sis", "sir_vital", "seir", "seirs", "LIBRARY", "get",
]

#: Every model of the library, by name.
LIBRARY = {
    f.__name__: f
    for f in (two_factor, cubic, double_well_gd, ring_gd, logistic, henon, standard_map, lorenz, sir, sis,
              sir_vital, seir, seirs)
}


def get(name: str) -> System:
    """The library model called ``name`` (dashes and underscores are interchangeable).

    Examples
    --------
    >>> get("two-factor").name
    'two-factor'
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in LIBRARY:
        raise UnknownModelError(f"no model called {name!r}; the library has: {', '.join(n.replace('_', '-') for n in LIBRARY)}")
    return LIBRARY[key]()
