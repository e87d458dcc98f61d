#!/usr/bin/env python
"""Benchmark dsanalyze against its peers on workloads W1-W5 (see README.md beside this file).

    python benchmarks/run.py [--workloads W1,W2,W3,W4,W5] [--repeat 7]

For each workload every implementation (hand-written C reference, plain NumPy,
naive numba loops if numba imports, pynamicalsys where it has the feature and
imports, dsanalyze with one and two threads) is run
once to warm up, then ``--repeat`` times (at least 5) round-robin, so that
noise on a shared machine hits them all alike; the table gives the median.
Compile/JIT cost is reported separately, in the "first call" column: the C
build (gcc) plus its first run, numba's and pynamicalsys's first call (JIT), dsanalyze's first
call with an empty kernel cache (DSANALYZE_CACHE set to a fresh temporary
directory). Every result is checked; a failed check is printed in the table
and makes the exit status 1.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REFERENCE = HERE / "reference"
BUILD = REFERENCE / "bin"  # ignored by git

# The checkout being benchmarked, and this folder's modules, come first.
sys.path[:0] = [str(ROOT), str(HERE)]

CFLAGS = ["-O3", "-march=native", "-fPIC", "-shared"]

# W1: orbit diagram of the logistic map.
W1_N, W1_X0, W1_TRANSIENT, W1_RECORD = 2000, 0.5, 1000, 1000
W1_AGREE_TOL = 1e-9  # agreement with the C reference where the orbits are periodic
W1_PERIODIC_MAX_R = 3.54  # period 8 starts at 3.5441, chaos at 3.5699
W1_DISTINCT_TOL = 1e-6  # recorded values closer than this are one value
W1_MARGIN = 0.01  # within this of a bifurcation 1000 transient steps do not converge
# W4: basins of gradient descent on the tilted ring (a^2 + b^2 - 1)^2 + ab.
W4_SIDE, W4_ETA, W4_STEPS, W4_ESCAPE = 1000, 0.1, 500, 1e6
W4_MIN = np.sqrt(10.0) / 4.0  # minima +-(m, -m)
W4_TOL = 1e-6  # a bounded orbit "is at" a minimum when within this after W4_STEPS steps
W4_MAX_MISMATCH = 100  # labels allowed to differ from the C reference (last-bit differences on basin boundaries)
# W5: bounded orbits of the two-factor map.
W5_SIDE, W5_MU, W5_STEPS, W5_ESCAPE, W5_EXPECTED = 1000, 1.5, 1000, 1e6, 345674
# W2 / W3: Lyapunov exponents of the Henon map (a, b) = (1.4, 0.3) along one orbit.
W23_A, W23_B, W23_X0, W23_TRANSIENT = 1.4, 0.3, (0.1, 0.1), 1000
W2_STEPS, W3_STEPS = 10**7, 10**6
W2_LAMBDA1, W2_TOL = 0.4192, 0.002  # lambda1 = 0.4192 +- 0.002
W3_SUM_TOL = 1e-6  # lambda1 + lambda2 = ln b to this
W23_NUMPY_STEPS = 10**5  # the Python/NumPy loops run this many steps; their time is scaled up (see README)


@dataclass
class Impl:
    name: str
    run: Callable[[], Any]  # one timed run, returns the raw result
    result: Callable[[Any], Any] = lambda r: r  # raw result -> checked value
    first_extra: float = 0.0  # seconds to add to the first call (e.g. the C build)
    first: float | None = None  # first-call seconds (warm-up, compile included)
    times: list[float] = field(default_factory=list)
    check: str = ""
    ok: bool = True
    report_first: bool = True


# ---------------------------------------------------------------- C references


def build_reference(name: str) -> tuple[ctypes.CDLL, float]:
    """Compile reference/<name>.c with gcc -O3 -march=native into reference/bin; (library, seconds)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    compiler = os.environ.get("CC", "gcc")
    source = REFERENCE / f"{name}.c"
    target = BUILD / f"lib{name}.so"
    start = time.perf_counter()
    subprocess.run([compiler, *CFLAGS, str(source), "-o", str(target), "-lm"], check=True)
    seconds = time.perf_counter() - start
    return ctypes.CDLL(str(target)), seconds


def reference_w1(lib: ctypes.CDLL, symbol: str) -> Callable[[np.ndarray], np.ndarray]:
    f = getattr(lib, symbol)
    f.restype = None
    f.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p]

    def run(rs: np.ndarray) -> np.ndarray:
        rs = np.ascontiguousarray(rs, dtype=np.float64)
        out = np.empty((rs.size, W1_RECORD))
        f(rs.size, rs.ctypes.data, W1_X0, W1_TRANSIENT, W1_RECORD, out.ctypes.data)
        return out

    return run


def reference_w5(lib: ctypes.CDLL, symbol: str) -> Callable[[np.ndarray], int]:
    f = getattr(lib, symbol)
    f.restype = ctypes.c_int64
    f.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_int64, ctypes.c_double]

    def run(X: np.ndarray) -> int:
        X = np.ascontiguousarray(X, dtype=np.float64)
        return int(f(X.shape[0], X.ctypes.data, W5_MU, W5_STEPS, W5_ESCAPE))

    return run


def reference_w4(lib: ctypes.CDLL, symbol: str) -> Callable[[np.ndarray], np.ndarray]:
    f = getattr(lib, symbol)
    f.restype = None
    f.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_double, ctypes.c_int64, ctypes.c_double, ctypes.c_void_p]

    def run(X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64)
        out = np.empty(X.shape[0], dtype=np.int8)
        f(X.shape[0], X.ctypes.data, W4_ETA, W4_STEPS, W4_ESCAPE, out.ctypes.data)
        return out

    return run


def reference_w2(lib: ctypes.CDLL) -> Callable[[], float]:
    f = lib.w2_maximal
    f.restype = ctypes.c_double
    f.argtypes = [ctypes.c_double] * 4 + [ctypes.c_int64] * 2
    return lambda: float(f(*W23_X0, W23_A, W23_B, W23_TRANSIENT, W2_STEPS))


def reference_w3(lib: ctypes.CDLL) -> Callable[[], np.ndarray]:
    f = lib.w3_spectrum
    f.restype = None
    f.argtypes = [ctypes.c_double] * 4 + [ctypes.c_int64] * 2 + [ctypes.c_void_p]

    def run() -> np.ndarray:
        out = np.empty(2)
        f(*W23_X0, W23_A, W23_B, W23_TRANSIENT, W3_STEPS, out.ctypes.data)
        return out

    return run


def variant(lib: ctypes.CDLL, symbol: str) -> str:
    f = getattr(lib, symbol)
    f.restype = ctypes.c_char_p
    return f().decode()


# ---------------------------------------------------------------- checks


def distinct_values(row: np.ndarray, tol: float = W1_DISTINCT_TOL) -> int:
    s = np.sort(row)
    return 1 + int(np.count_nonzero(np.diff(s) > tol))


def check_w1(out: Any, reference: np.ndarray, rs: np.ndarray) -> tuple[bool, str]:
    """Shape, agreement with the C reference where periodic, and the split of the period-2 band at r = 3."""
    out = np.asarray(out)
    if out.shape != (W1_N, W1_RECORD):
        return False, f"shape {out.shape}"
    if not np.isfinite(out).all():
        return False, "non-finite values"
    periodic = rs <= W1_PERIODIC_MAX_R
    err = float(np.max(np.abs(out[periodic] - reference[periodic])))
    if err > W1_AGREE_TOL:
        return False, f"differs from C by {err:.1e} at r <= {W1_PERIODIC_MAX_R}"
    counts = np.array([distinct_values(row) for row in out])
    fixed = rs <= 3.0 - W1_MARGIN
    period2 = (rs >= 3.0 + W1_MARGIN) & (rs <= 3.449 - W1_MARGIN)
    if not (counts[fixed] == 1).all():
        bad = rs[fixed][counts[fixed] != 1]
        return False, f"not one value at r = {bad[0]:.4f}"
    if not (counts[period2] == 2).all():
        bad = rs[period2][counts[period2] != 2]
        return False, f"not two values at r = {bad[0]:.4f}"
    return True, f"ok (max diff to C {err:.0e}; 1 value r<=2.99, 2 values 3.01<=r<=3.439)"


def w4_labels_from_states(final: np.ndarray, bounded: np.ndarray) -> np.ndarray:
    """W4 labels (0 divergent, 1 at (m, -m), 2 at (-m, m), 3 bounded elsewhere) from final states."""
    a, b = final[:, 0], final[:, 1]
    labels = np.where(bounded, 3, 0).astype(np.int8)
    labels[bounded & (np.abs(a - W4_MIN) < W4_TOL) & (np.abs(b + W4_MIN) < W4_TOL)] = 1
    labels[bounded & (np.abs(a + W4_MIN) < W4_TOL) & (np.abs(b - W4_MIN) < W4_TOL)] = 2
    return labels


def check_w4(labels: Any, reference: np.ndarray) -> tuple[bool, str]:
    """Two attractors with equal basins, the rest divergent or on the diagonal, and agreement with C."""
    labels = np.asarray(labels).ravel()
    if labels.shape != reference.shape:
        return False, f"shape {labels.shape}"
    counts = np.bincount(labels.astype(np.int64), minlength=4)
    if counts.size > 4 or counts[1] == 0 or counts[2] == 0:
        return False, f"label counts {counts.tolist()}: not two attractors"
    if abs(int(counts[1]) - int(counts[2])) > W4_MAX_MISMATCH or counts[3] > W4_SIDE:
        return False, f"label counts {counts.tolist()}"
    mismatch = int(np.count_nonzero(labels != reference))
    if mismatch > W4_MAX_MISMATCH:
        return False, f"{mismatch} labels differ from C"
    return True, f"ok (minima {counts[1]}/{counts[2]}, divergent {counts[0]}, diagonal {counts[3]}; {mismatch} differ from C)"


def check_w5(count: Any) -> tuple[bool, str]:
    return (count == W5_EXPECTED), (f"ok ({count})" if count == W5_EXPECTED else f"{count} != {W5_EXPECTED}")


def check_w2(lam1: Any) -> tuple[bool, str]:
    lam1 = float(np.asarray(lam1).ravel()[0])
    ok = abs(lam1 - W2_LAMBDA1) <= W2_TOL
    return ok, f"{'ok' if ok else 'off'} (lambda1 = {lam1:.5f}; expected {W2_LAMBDA1} +- {W2_TOL})"


def check_w3(spectrum: Any) -> tuple[bool, str]:
    lam = np.asarray(spectrum, dtype=float).ravel()
    ok1, _ = check_w2(lam[0])
    err = abs(lam[0] + lam[1] - np.log(W23_B))
    ok = ok1 and err <= W3_SUM_TOL
    return ok, (f"{'ok' if ok else 'off'} (lambda = {lam[0]:.5f}, {lam[1]:.5f}; "
                f"|lambda1 + lambda2 - ln 0.3| = {err:.0e})")


# ---------------------------------------------------------------- W2 / W3 peers in Python


def numpy_w2(steps: int) -> float:
    """What a user writes first: a Python loop over the steps, 2 x 2 NumPy algebra, log every step."""
    a, b = W23_A, W23_B
    x, y = W23_X0
    for _ in range(W23_TRANSIENT):
        x, y = 1.0 - a * x * x + y, b * x
    v = np.array([1.0, 0.0])
    total = 0.0
    for _ in range(steps):
        J = np.array([[-2.0 * a * x, 1.0], [b, 0.0]])
        v = J @ v
        norm = np.linalg.norm(v)
        total += np.log(norm)
        v /= norm
        x, y = 1.0 - a * x * x + y, b * x
    return total / steps


def numpy_w3(steps: int) -> np.ndarray:
    """The QR method as first written: a Python loop, np.linalg.qr every step, logs of |diag R|."""
    a, b = W23_A, W23_B
    x, y = W23_X0
    for _ in range(W23_TRANSIENT):
        x, y = 1.0 - a * x * x + y, b * x
    Q = np.eye(2)
    total = np.zeros(2)
    for _ in range(steps):
        J = np.array([[-2.0 * a * x, 1.0], [b, 0.0]])
        Q, R = np.linalg.qr(J @ Q)
        d = np.diag(R)
        total += np.log(np.abs(d))
        Q = Q * np.sign(d)  # keep the columns' orientation (R with a positive diagonal)
        x, y = 1.0 - a * x * x + y, b * x
    return total / steps


def scaled(run: Callable[[], Any], factor: float) -> Callable[[], Any]:
    """A run whose measured time is multiplied by ``factor`` (extrapolation from fewer steps)."""
    def timed() -> Any:
        return run()

    timed.scale = factor  # type: ignore[attr-defined]
    return timed


_NUMBA_W23: dict[str, Callable] = {}


def numba_w23():
    """@njit versions of the naive loops (renormalise and take the log every step), or None."""
    try:
        import numba
    except ImportError as exc:
        return None, f"numba not importable ({exc}); numba rows skipped (pip install numba in the benchmark env)"
    if not _NUMBA_W23:
        @numba.njit(cache=False)
        def w2(x, y, a, b, transient, steps):
            for _ in range(transient):
                x, y = 1.0 - a * x * x + y, b * x
            vx, vy = 1.0, 0.0
            total = 0.0
            for _ in range(steps):
                vx, vy = -2.0 * a * x * vx + vy, b * vx
                n = np.sqrt(vx * vx + vy * vy)
                total += np.log(n)
                vx /= n
                vy /= n
                x, y = 1.0 - a * x * x + y, b * x
            return total / steps

        @numba.njit(cache=False)
        def w3(x, y, a, b, transient, steps):
            for _ in range(transient):
                x, y = 1.0 - a * x * x + y, b * x
            ux, uy, wx, wy = 1.0, 0.0, 0.0, 1.0
            t1 = 0.0
            t2 = 0.0
            for _ in range(steps):
                c = -2.0 * a * x
                ux, uy = c * ux + uy, b * ux
                wx, wy = c * wx + wy, b * wx
                r11 = np.sqrt(ux * ux + uy * uy)
                ux /= r11
                uy /= r11
                r12 = ux * wx + uy * wy
                wx -= r12 * ux
                wy -= r12 * uy
                r22 = np.sqrt(wx * wx + wy * wy)
                wx /= r22
                wy /= r22
                t1 += np.log(r11)
                t2 += np.log(r22)
                x, y = 1.0 - a * x * x + y, b * x
            out = np.empty(2)
            out[0] = t1 / steps
            out[1] = t2 / steps
            return out

        _NUMBA_W23.update(w2=w2, w3=w3)
    return _NUMBA_W23, f"numba {numba.__version__}"


# ---------------------------------------------------------------- workloads


def numba_module():
    try:
        import numba_impl
    except ImportError as exc:
        return None, f"numba not importable ({exc}); numba rows skipped (pip install numba in the benchmark env)"
    import numba

    return numba_impl, f"numba {numba.__version__}"


def pynamicalsys_module():
    """The pynamicalsys peer (GPL-3.0; its public API is called, nothing copied), or None with a note."""
    try:
        import pynamicalsys_impl
    except ImportError as exc:
        return None, (f"pynamicalsys not importable ({exc}); pynamicalsys rows skipped "
                      "(pip install pynamicalsys in the benchmark env)")
    return pynamicalsys_impl, f"pynamicalsys {pynamicalsys_impl.VERSION} (GPL-3.0; called through its public API)"


PYNAMICALSYS_ABSENT = ("{w}: no pynamicalsys row: pynamicalsys has no basin or escape computation over a grid "
                       "of initial conditions for maps (escape_analysis takes one initial condition, "
                       "basin_of_attraction is for continuous-time systems only)")


def dsanalyze_rows(make_call: Callable[[int], Callable[[], Any]], result: Callable[[Any], Any]) -> list[Impl]:
    return [
        Impl("dsanalyze (threads=1)", make_call(1), result),
        Impl("dsanalyze (threads=2)", make_call(2), result, report_first=False),
    ]


def setup_w1(notes: list[str]) -> tuple[list[Impl], Callable[[Impl, Any], tuple[bool, str]]]:
    import dsanalyze as ds
    import numpy_impl

    rs = np.linspace(2.5, 4.0, W1_N)
    lib, build = build_reference("w1")
    notes.append(f"W1 C reference: {variant(lib, 'w1_variant')}; build {build:.2f} s")
    best = reference_w1(lib, "w1_orbits")
    reference = best(rs)
    impls = [
        Impl("C reference", lambda: best(rs), first_extra=build),
        Impl("C portable (plain C lanes)", lambda f=reference_w1(lib, "w1_orbits_portable"): f(rs)),
        Impl("NumPy", lambda: numpy_impl.w1_orbits(rs, W1_X0, W1_TRANSIENT, W1_RECORD)),
    ]
    nb, note = numba_module()
    notes.append(note)
    if nb is not None:
        impls.append(Impl("numba (naive loop)", lambda: nb.w1_orbits(rs, W1_X0, W1_TRANSIENT, W1_RECORD)))
    pyn, note = pynamicalsys_module()
    notes.append(note)
    if pyn is not None:
        impls.append(Impl("pynamicalsys bifurcation_diagram",
                          lambda: pyn.w1_orbits(rs, W1_X0, W1_TRANSIENT, W1_RECORD)))
    model = ds.models.logistic()
    x0 = np.full(W1_N, W1_X0)

    def make_call(threads: int) -> Callable[[], Any]:
        return lambda: ds.iterate(model, x0, W1_TRANSIENT + W1_RECORD, {"r": rs}, record=W1_RECORD, threads=threads)

    impls += dsanalyze_rows(make_call, lambda res: res.recorded[:, :, 0])
    return impls, lambda impl, value: check_w1(value, reference, rs)


def setup_w5(notes: list[str]) -> tuple[list[Impl], Callable[[Impl, Any], tuple[bool, str]]]:
    import dsanalyze as ds
    import numpy_impl

    axis = np.linspace(-2.0, 2.0, W5_SIDE)
    U, V = np.meshgrid(axis, axis, indexing="ij")
    X = np.ascontiguousarray(np.column_stack([U.ravel(), V.ravel()]))
    lib, build = build_reference("w5")
    notes.append(f"W5 C reference: {variant(lib, 'w5_variant')}; build {build:.2f} s")
    impls = [
        Impl("C reference", lambda f=reference_w5(lib, "w5_count"): f(X), first_extra=build),
        Impl("C portable (plain C lanes)", lambda f=reference_w5(lib, "w5_count_portable"): f(X)),
        Impl("NumPy", lambda: numpy_impl.w5_count(X, W5_MU, W5_STEPS, W5_ESCAPE)),
    ]
    nb, note = numba_module()
    notes.append(note)
    if nb is not None:
        impls.append(Impl("numba (naive loop)", lambda: nb.w5_count(X, W5_MU, W5_STEPS, W5_ESCAPE)))
    notes.append(PYNAMICALSYS_ABSENT.format(w="W5"))
    model = ds.models.two_factor()

    def make_call(threads: int) -> Callable[[], Any]:
        return lambda: ds.iterate(model, X, W5_STEPS, {"mu": W5_MU}, escape=W5_ESCAPE, threads=threads)

    impls += dsanalyze_rows(make_call, lambda res: int(res.bounded.sum()))
    return impls, lambda impl, value: check_w5(value)


def setup_w4(notes: list[str]) -> tuple[list[Impl], Callable[[Impl, Any], tuple[bool, str]]]:
    import dsanalyze as ds
    import numpy_impl
    from dsanalyze.numeric.basins import AttractorKind, basins

    axis = np.linspace(-2.0, 2.0, W4_SIDE)
    A, B = np.meshgrid(axis, axis, indexing="ij")
    X = np.ascontiguousarray(np.column_stack([A.ravel(), B.ravel()]))
    lib, build = build_reference("w4")
    notes.append(f"W4 C reference: {variant(lib, 'w4_variant')}; build {build:.2f} s")
    best = reference_w4(lib, "w4_labels")
    reference = best(X)
    impls = [
        Impl("C reference", lambda: best(X), first_extra=build),
        Impl("C portable (plain C lanes)", lambda f=reference_w4(lib, "w4_labels_portable"): f(X)),
        Impl("NumPy", lambda: numpy_impl.w4_labels(X, W4_ETA, W4_STEPS, W4_ESCAPE)),
    ]
    nb, note = numba_module()
    notes.append(note)
    if nb is not None:
        impls.append(Impl("numba (naive loop)", lambda: nb.w4_labels(X, W4_ETA, W4_STEPS, W4_ESCAPE)))
    notes.append(PYNAMICALSYS_ABSENT.format(w="W4"))
    model = ds.models.ring_gd()

    def make_call(threads: int) -> Callable[[], Any]:
        def run() -> np.ndarray:  # raw iterate + labelling, both timed
            res = ds.iterate(model, X, W4_STEPS, {"eta": W4_ETA}, escape=W4_ESCAPE, threads=threads)
            return w4_labels_from_states(res.final, res.bounded)

        return run

    impls += dsanalyze_rows(make_call, lambda labels: labels)

    def basin_labels(res: Any) -> np.ndarray:
        # catalogue label -> W4 code (by where the attractor is)
        code = np.zeros(len(res.attractors), dtype=np.int8)
        for a in res.attractors:
            if a.kind is AttractorKind.DIVERGENT:
                code[a.label] = 0
            elif a.attracting and a.period == 1 and np.allclose(a.points[0], [W4_MIN, -W4_MIN], atol=W4_TOL):
                code[a.label] = 1
            elif a.attracting and a.period == 1 and np.allclose(a.points[0], [-W4_MIN, W4_MIN], atol=W4_TOL):
                code[a.label] = 2
            else:
                code[a.label] = 3
        return code[res.labels.ravel()]

    impls += [
        Impl("dsanalyze basins() (threads=1)",
             lambda: basins(model, [axis, axis], W4_STEPS, {"eta": W4_ETA}, escape=W4_ESCAPE, threads=1), basin_labels),
        Impl("dsanalyze basins() (threads=2)",
             lambda: basins(model, [axis, axis], W4_STEPS, {"eta": W4_ETA}, escape=W4_ESCAPE, threads=2), basin_labels,
             report_first=False),
    ]
    return impls, lambda impl, value: check_w4(value, reference)


def setup_w2(notes: list[str]) -> tuple[list[Impl], Callable[[Impl, Any], tuple[bool, str]]]:
    import dsanalyze as ds

    lib, build = build_reference("w23")
    notes.append(f"W2/W3 C reference: {variant(lib, 'w23_variant')}; build {build:.2f} s")
    factor = W2_STEPS / W23_NUMPY_STEPS
    impls = [
        Impl("C reference", reference_w2(lib), first_extra=build),
        Impl(f"NumPy (Python loop; {W23_NUMPY_STEPS:.0e} steps, time x{factor:g})",
             scaled(lambda: numpy_w2(W23_NUMPY_STEPS), factor)),
    ]
    nb, note = numba_w23()
    notes.append(note)
    if nb is not None:
        impls.append(Impl("numba (naive loop)", lambda: nb["w2"](*W23_X0, W23_A, W23_B, W23_TRANSIENT, W2_STEPS)))
    pyn, note = pynamicalsys_module()
    notes.append(note)
    if pyn is not None:
        impls += [Impl(f"pynamicalsys lyapunov ({method})",
                       lambda method=method: pyn.w2_maximal(W23_X0, W23_A, W23_B, W23_TRANSIENT, W2_STEPS, method))
                  for method in ("QR", "ER")]
    model = ds.models.henon()
    impls.append(Impl("dsanalyze (threads=1)",
                      lambda: ds.maximal_lyapunov(model, list(W23_X0), W2_STEPS, transient=W23_TRANSIENT,
                                                  a=W23_A, b=W23_B),
                      lambda r: r.maximal))
    notes.append(f"W2/W3 NumPy rows run {W23_NUMPY_STEPS:.0e} steps and their times are multiplied by the step "
                 "ratio (x100 for W2, x10 for W3): the loop costs the same per step; their checks are on the "
                 "shorter run (W2 tolerance applied as is)")
    return impls, lambda impl, value: check_w2(value)


def setup_w3(notes: list[str]) -> tuple[list[Impl], Callable[[Impl, Any], tuple[bool, str]]]:
    import dsanalyze as ds

    lib, build = build_reference("w23")
    factor = W3_STEPS / W23_NUMPY_STEPS
    impls = [
        Impl("C reference", reference_w3(lib), first_extra=build),
        Impl(f"NumPy (Python loop; {W23_NUMPY_STEPS:.0e} steps, time x{factor:g})",
             scaled(lambda: numpy_w3(W23_NUMPY_STEPS), factor)),
    ]
    nb, note = numba_w23()
    notes.append(note)
    if nb is not None:
        impls.append(Impl("numba (naive loop)", lambda: nb["w3"](*W23_X0, W23_A, W23_B, W23_TRANSIENT, W3_STEPS)))
    pyn, note = pynamicalsys_module()
    notes.append(note)
    if pyn is not None:
        impls += [Impl(f"pynamicalsys lyapunov ({method})",
                       lambda method=method: pyn.w3_spectrum(W23_X0, W23_A, W23_B, W23_TRANSIENT, W3_STEPS, method))
                  for method in ("QR", "ER")]
    model = ds.models.henon()
    impls.append(Impl("dsanalyze (threads=1)",
                      lambda: ds.lyapunov_spectrum(model, list(W23_X0), W3_STEPS, transient=W23_TRANSIENT,
                                                   a=W23_A, b=W23_B),
                      lambda r: r.exponents))
    return impls, lambda impl, value: check_w3(value)


WORKLOADS = {"W1": setup_w1, "W2": setup_w2, "W3": setup_w3, "W4": setup_w4, "W5": setup_w5}


# ---------------------------------------------------------------- timing and table


def measure(impls: list[Impl], check: Callable[[Impl, Any], tuple[bool, str]], repeat: int) -> None:
    for impl in impls:  # warm-up = first call (compile / JIT included), checked
        scale = getattr(impl.run, "scale", 1.0)  # extrapolated rows: time of fewer steps, scaled up
        start = time.perf_counter()
        value = impl.run()
        impl.first = (time.perf_counter() - start) * scale + impl.first_extra
        impl.ok, impl.check = check(impl, impl.result(value))
        del value
    for rep in range(repeat):  # round-robin so that machine noise hits every row alike
        for impl in impls:
            start = time.perf_counter()
            value = impl.run()
            impl.times.append((time.perf_counter() - start) * getattr(impl.run, "scale", 1.0))
            if rep == repeat - 1:  # the last timed result is checked too
                ok, message = check(impl, impl.result(value))
                if impl.ok and not ok:
                    impl.ok, impl.check = ok, message
            del value


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}g}" if x < 1000 else f"{x:.0f}"


def table(results: dict[str, list[Impl]]) -> str:
    head = ["workload", "implementation", "median s", "min s", "ratio to C", "ratio to dsanalyze", "first call s", "check"]
    rows = [head, ["---"] * len(head)]
    for workload, impls in results.items():
        med = {impl.name: statistics.median(impl.times) for impl in impls}
        c = med.get("C reference")
        d = med.get("dsanalyze (threads=1)")
        for impl in impls:
            m = med[impl.name]
            rows.append([
                workload, impl.name, fmt(m), fmt(min(impl.times)),
                fmt(m / c, 3) if c else "—", fmt(m / d, 3) if d else "—",
                fmt(impl.first) if impl.report_first else "—",
                impl.check if impl.ok else "FAILED: " + impl.check,
            ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for r in rows:
        if r[0] == "---":
            r = ["-" * w for w in widths]
        lines.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths)) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cc = os.environ.get("CC", "gcc")
    try:
        gcc = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        gcc = f"{cc}: not found"
    return f"{cpu}, {os.cpu_count()} CPUs; {gcc}; Python {platform.python_version()}; NumPy {np.__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="W1,W4,W5", help="comma-separated, from: " + ",".join(WORKLOADS))
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per implementation (at least 5)")
    args = parser.parse_args(argv)
    workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    repeat = max(5, args.repeat)

    cache = tempfile.mkdtemp(prefix="dsanalyze-bench-cache-")
    os.environ["DSANALYZE_CACHE"] = cache  # empty kernel cache: dsanalyze's first call compiles
    notes = [machine(), f"DSANALYZE_CACHE={cache} (fresh, removed at exit)", f"C flags: {' '.join(CFLAGS)}"]
    results: dict[str, list[Impl]] = {}
    try:
        for workload in workloads:
            print(f"running {workload} ...", file=sys.stderr, flush=True)
            impls, check = WORKLOADS[workload](notes)
            measure(impls, check, repeat)
            results[workload] = impls
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print()
    for note in dict.fromkeys(notes):
        print(f"- {note}")
    print(f"- median and min of {repeat} timed runs after one warm-up; ratios are of medians "
          "(>1: slower than C / than dsanalyze with 1 thread)")
    print()
    print(table(results))
    failed = [f"{w} {i.name}" for w, impls in results.items() for i in impls if not i.ok]
    if failed:
        print("\nFAILED checks: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
