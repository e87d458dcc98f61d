"""W8: ``dsanalyze report two-factor`` end to end, PDF included, timed as a user runs it.

    python benchmarks/report.py [--runs 3]

Each run is a fresh process with a fresh kernel cache, so compilation is
included (as on a user's first run); a second set of runs reuses the cache.
The aim is under 60 s.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(cache: str, out: str) -> float:
    env = dict(os.environ, DSANALYZE_CACHE=cache)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dsanalyze", "report", "two-factor", "-o", out], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
            cold.append(run_once(cache, out))
            warm.append(run_once(cache, out))
    print("| W8: dsanalyze report two-factor | median s | runs |")
    print("| --- | --- | --- |")
    print(f"| fresh kernel cache (compiles included) | {statistics.median(cold):.1f} | {len(cold)} |")
    print(f"| warm kernel cache | {statistics.median(warm):.1f} | {len(warm)} |")


if __name__ == "__main__":
    main()
