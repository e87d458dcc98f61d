"""W7: the full symbolic analysis of the two-factor map, timed step by step.

    python benchmarks/symbolic.py

Each step is timed once in a fresh process (SymPy caches results, so a second
run in the same process would measure the cache). The total is what a user
waits for; the aim is under 10 s.
"""
from __future__ import annotations

import time

import sympy as sp


def main() -> None:
    start = time.perf_counter()
    import dsanalyze as ds

    steps = []

    def step(name, fn):
        t0 = time.perf_counter()
        result = fn()
        steps.append((name, time.perf_counter() - t0))
        return result

    F = ds.models.two_factor()
    u, v = F.state
    (mu,) = F.params
    fps = step("fixed points", F.fixed_points)
    step("linearisation on uv = 1", lambda: F.linearise(fps[1]))
    condition = step("stability on uv = 1", lambda: F.stability(fps[1]))
    ellipse = step("invariant curves (degree 2)", lambda: F.find_invariant_curve(degree=2))
    step("induced map on the ellipse", lambda: F.induced_map(ellipse))
    cubic = step("balanced restriction v = u", lambda: F.restrict(v=u))
    step("bifurcations of the cubic map", lambda: cubic.bifurcations("mu"))
    cycles = step("period 2 of the cubic map", lambda: cubic.periodic_orbits(2))
    step("period 2 of the two-factor map", lambda: F.periodic_orbits(2))
    total = time.perf_counter() - start

    assert sp.expand(fps[1].equations[0] - (u * v - 1)) == 0
    assert sp.expand(ellipse.expression - (mu * (u**2 + v**2) - mu**2 * u * v - (4 - mu**2))) == 0
    assert any(sp.simplify(c.multiplier - (7 - 4 * mu - 2 * mu**2)) == 0 for c in cycles)
    assert condition.holds(mu=0.9, u=1, v=1) and not condition.holds(mu=1.1, u=1, v=1)

    width = max(len(name) for name, _ in steps)
    print("| W7 step" + " " * (width - 7) + " | seconds |")
    print("| " + "-" * width + " | ------- |")
    for name, seconds in steps:
        print(f"| {name:<{width}} | {seconds:7.3f} |")
    print(f"| {'total, import included':<{width}} | {total:7.3f} |")


if __name__ == "__main__":
    main()
