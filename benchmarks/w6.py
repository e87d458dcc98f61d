#!/usr/bin/env python
"""W6: continuous-time SIR on Erdos-Renyi graphs against EoN.fast_SIR, on the same graphs.

    python benchmarks/w6.py [--sizes 100000,1000000] [--repeat 5] [--eon-repeat-large 3] [--ks-runs 50] [--sis]

SIS (``--sis``): ER N = 10^4 (``--sis-n``), tmax = 20, same rates; EoN.fast_SIS
needs about 6 s per run there and over a minute at N = 10^5.

ER graphs with mean degree 10; tau = 0.3, gamma = 1, rho = 0.001. Graph
building is timed separately: dsanalyze's compiled G(n, p) generator (straight
to CSR) against networkx.fast_gnp_random_graph. Both simulators then run on the
SAME graph (ours as CSR, EoN on the networkx graph made from that CSR). Each
simulator runs once to warm up, then ``--repeat`` times (at least 5)
round-robin; at N = 10^6 EoN runs ``--eon-repeat-large`` times (one run takes
about a minute). dsanalyze runs with one thread. Medians of wall time (and CPU
time of the process) are printed with the ratio EoN / dsanalyze.

Same distribution: at N = 10^5, ``--ks-runs`` final sizes from each (fresh
seeds on the same graph) go into a two-sample Kolmogorov-Smirnov test
(scipy.stats.ks_2samp); it must not reject at 1%.

Needs EoN and networkx in the benchmark environment (``pip install EoN networkx``);
EoN is never a dependency of the package. Exit status 1 if a check fails.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsanalyze.numeric.graphs import erdos_renyi  # noqa: E402
from dsanalyze.numeric.network import simulate_sir, simulate_sis  # noqa: E402

TAU, GAMMA, RHO, MEAN_DEGREE = 0.3, 1.0, 0.001, 10.0
EXPECTED = 0.86395  # EBCM final size (Miller, Slim & Volz 2012)


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def to_networkx(graph):
    import networkx as nx

    return nx.from_scipy_sparse_array(graph.to_scipy())


def eon_final(G, seed, sis_tmax=None):
    import EoN

    random.seed(seed)
    np.random.seed(seed % 2**32)
    if sis_tmax is not None:
        t, S, I = EoN.fast_SIS(G, TAU, GAMMA, rho=RHO, tmax=sis_tmax)
        return I[-1] / G.number_of_nodes()
    t, S, I, R = EoN.fast_SIR(G, TAU, GAMMA, rho=RHO)
    return R[-1] / G.number_of_nodes()


def ours_final(g, seed, sis_tmax=None):
    if sis_tmax is not None:
        r = simulate_sis(g, TAU, GAMMA, rho=RHO, tmax=sis_tmax, seed=seed, threads=1, progress=False)
        return r.final[0, 1] / g.n
    r = simulate_sir(g, TAU, GAMMA, rho=RHO, seed=seed, threads=1, progress=False)
    return r.final_sizes[0]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--eon-repeat-large", type=int, default=3)
    parser.add_argument("--nx-repeat-large", type=int, default=1)
    parser.add_argument("--ks-runs", type=int, default=50)
    parser.add_argument("--sis", action="store_true", help="also time SIS against EoN.fast_SIS")
    parser.add_argument("--sis-n", type=int, default=10_000,
                        help="SIS graph size (default 10^4: EoN.fast_SIS takes about 6 s per run there)")
    parser.add_argument("--sis-tmax", type=float, default=20.0)
    args = parser.parse_args(argv)
    import EoN
    import networkx as nx
    import scipy
    from scipy.stats import ks_2samp

    repeat = max(5, args.repeat)
    print(f"W6: SIR on ER graphs, <k> = {MEAN_DEGREE:g}, tau = {TAU}, gamma = {GAMMA}, rho = {RHO}; "
          f"networkx {nx.__version__}, EoN {EoN.__version__}, scipy {scipy.__version__}")
    failed = False
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        large = n >= 10**6
        # graph building, round-robin
        ours_build, nx_build = [], []
        nx_reps = args.nx_repeat_large if large else repeat
        g = None
        for i in range(repeat):
            g, w, _ = timed(lambda: erdos_renyi(n, MEAN_DEGREE, seed=100 + i))
            ours_build.append(w)
            if i < nx_reps:
                _, w, _ = timed(lambda: nx.fast_gnp_random_graph(n, MEAN_DEGREE / (n - 1), seed=100 + i))
                nx_build.append(w)
        G, conv, _ = timed(lambda: to_networkx(g))
        print(f"\nN = {n}: graph with {g.number_of_edges} edges, mean degree {2 * g.number_of_edges / n:.4f}")
        print(f"  build  dsanalyze erdos_renyi   median {median(ours_build):8.3f} s  ({repeat} runs)")
        print(f"  build  networkx fast_gnp       median {median(nx_build):8.3f} s  ({len(nx_build)} runs)"
              f"   ratio {median(nx_build) / median(ours_build):7.1f}x")
        print(f"  (CSR -> networkx for EoN: {conv:.2f} s, not timed in either)")
        # warm-up
        ours_final(g, 0)
        if not large:
            eon_final(G, 0)
        eon_reps = args.eon_repeat_large if large else repeat
        ow, oc, ew, ec, osz, esz = [], [], [], [], [], []
        for i in range(repeat):
            z, w, c = timed(lambda: ours_final(g, 1000 + i))
            ow.append(w), oc.append(c), osz.append(z)
            if i < eon_reps:
                z, w, c = timed(lambda: eon_final(G, 1000 + i))
                ew.append(w), ec.append(c), esz.append(z)
        ratio = median(ew) / median(ow)
        print(f"  SIR    dsanalyze (1 thread)    median {median(ow):8.3f} s wall, {median(oc):8.3f} s CPU "
              f"({repeat} runs), final sizes {np.round(osz, 4).tolist()}")
        print(f"  SIR    EoN.fast_SIR            median {median(ew):8.3f} s wall, {median(ec):8.3f} s CPU "
              f"({len(ew)} runs{', fewer: a run takes about a minute' if large and len(ew) < repeat else ''}), "
              f"final sizes {np.round(esz, 4).tolist()}")
        print(f"  SIR    ratio EoN / dsanalyze   {ratio:7.1f}x wall, {median(ec) / median(oc):7.1f}x CPU"
              f"   (goal >= 20x)")
        rows.append((n, median(ours_build), median(nx_build), median(ow), median(ew), ratio))
        mean_ours = float(np.mean(osz))
        if abs(mean_ours / EXPECTED - 1) > 0.01:
            print(f"  CHECK FAILED: mean final size {mean_ours:.5f} vs {EXPECTED}")
            failed = True
        if not large and args.ks_runs:
            ours = simulate_sir(g, TAU, GAMMA, rho=RHO, runs=args.ks_runs, seed=7, threads=1, progress=False).final_sizes
            eon = np.array([eon_final(G, 5000 + i) for i in range(args.ks_runs)])
            stat, p = ks_2samp(ours, eon)
            verdict = "does not reject" if p >= 0.01 else "REJECTS"
            print(f"  KS two-sample test, {args.ks_runs} runs each on this graph: D = {stat:.3f}, p = {p:.3f} "
                  f"-> {verdict} at 1%  (means {ours.mean():.5f} vs {eon.mean():.5f}, "
                  f"sd {ours.std(ddof=1):.5f} vs {eon.std(ddof=1):.5f})")
            failed |= p < 0.01
    if args.sis:
        n, tmax = args.sis_n, args.sis_tmax
        g = erdos_renyi(n, MEAN_DEGREE, seed=100)
        G = to_networkx(g)
        ours_final(g, 0, tmax), eon_final(G, 0, tmax)
        sw, ew, sz, ez = [], [], [], []
        for i in range(repeat):
            z, w, _ = timed(lambda: ours_final(g, 2000 + i, tmax))
            sw.append(w), sz.append(z)
            z, w, _ = timed(lambda: eon_final(G, 2000 + i, tmax))
            ew.append(w), ez.append(z)
        print(f"\nSIS on ER N = {n}, tmax = {tmax:g} (same graph, {repeat} runs each):")
        print(f"  SIS    dsanalyze (1 thread)    median {median(sw):8.3f} s, prevalence at tmax {np.mean(sz):.4f}")
        print(f"  SIS    EoN.fast_SIS            median {median(ew):8.3f} s, prevalence at tmax {np.mean(ez):.4f}")
        print(f"  SIS    ratio EoN / dsanalyze   {median(ew) / median(sw):7.1f}x")
        if abs(np.mean(sz) - np.mean(ez)) > 0.02:
            print("  CHECK FAILED: the prevalences differ by more than 0.02")
            failed = True
    print("\n| N | build ours (s) | build networkx (s) | SIR ours (s) | EoN fast_SIR (s) | ratio |")
    print("|---|---|---|---|---|---|")
    for n, b1, b2, s1, s2, r in rows:
        print(f"| {n} | {b1:.3f} | {b2:.3f} | {s1:.3f} | {s2:.2f} | {r:.1f}x |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
