#!/usr/bin/env python3
"""Builds of `sqlrail lint` against each other and against grep, in one run (issue 3).

Runs `BIN lint --format gcc TREE` for each NAME=BIN given (and `grep -rcE
'\\b(INSERT|UPDATE|DELETE)\\b' TREE` for `grep=grep`) RUNS times, alternating, from the
repository root so that its lint-rules.yaml applies, as in bench/lint.sh. Prints the median
wall time (monotonic clock), the mean CPU time (user + system, from getrusage) and the ratio
to grep. Alternating matters: on a shared 2-core VM the speed of the whole machine drifts by
10% within minutes, more than most changes being measured.

    RUNS=11 python3 bench/compare_lint.py old=/tmp/sqlrail-old new=target/release/sqlrail grep=grep

TREE defaults to bench/lint.sh's tree (/tmp/sqlrail-lint-bench-87; run bench/lint.sh once
to make it).
"""
import collections
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.environ.get("TREE", "/tmp/sqlrail-lint-bench-87")
RUNS = int(os.environ.get("RUNS", "5"))


def command(binary):
    if binary == "grep":
        return ["grep", "-rcE", r"\b(INSERT|UPDATE|DELETE)\b", TREE]
    return [os.path.join(ROOT, binary) if not os.path.isabs(binary) else binary,
            "lint", "--format", "gcc", TREE]


def main():
    builds = [arg.split("=", 1) for arg in sys.argv[1:]]
    if not builds or any(len(b) != 2 for b in builds) or not os.path.isdir(TREE):
        sys.exit(__doc__)
    runs = collections.defaultdict(list)
    for _ in range(RUNS):
        for name, binary in builds:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command(binary), cwd=ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            runs[name].append((wall, cpu))
    grep = statistics.median(w for w, _ in runs["grep"]) if "grep" in runs else None
    for name, _ in builds:
        walls = [w for w, _ in runs[name]]
        wall = statistics.median(walls)
        cpu = statistics.mean(c for _, c in runs[name])
        ratio = f"  {wall / grep:.2f}x grep" if grep else ""
        print(f"{name:10s} wall {wall:6.3f} s (best {min(walls):.3f})  cpu {cpu:6.3f} s{ratio}")


if __name__ == "__main__":
    main()
