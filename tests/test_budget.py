"""Time budgets stop symbolic work, even code that swallows the first interrupt."""
import time

import pytest

from dsanalyze.errors import SymbolicTimeout
from dsanalyze.symbolic.budget import can_interrupt, time_limit

pytestmark = pytest.mark.skipif(not can_interrupt(), reason="budgets need SIGALRM in the main thread")


def test_a_budget_stops_a_loop():
    start = time.monotonic()
    with pytest.raises(SymbolicTimeout, match="spinning ran past its budget of 0.3 s"):
        with time_limit(0.3, "spinning"):
            while True:
                pass
    assert time.monotonic() - start < 2


def test_a_swallowed_interrupt_fires_again():
    swallowed = 0
    start = time.monotonic()
    with pytest.raises(SymbolicTimeout):
        with time_limit(0.2, "stubborn"):
            while True:
                try:
                    while True:
                        pass
                except SymbolicTimeout:
                    swallowed += 1  # like library code that catches every exception
                    if swallowed > 1:
                        raise
    assert swallowed == 2 and time.monotonic() - start < 2


def test_no_interrupt_after_the_block():
    with time_limit(0.1, "quick"):
        pass
    time.sleep(0.4)  # a stray alarm would raise here
