#!/usr/bin/env python3
"""Caps a committed corpus: keeps the MAX_FILES inputs that together cover the most edges.

    fuzz/shrink-corpus.py TARGET [MAX_FILES]      (default 300; run after cargo fuzz cmin)

cmin keeps every input that adds a feature, which after a few minutes is well over a thousand
files for tenant_yaml. This asks the built target (libFuzzer's merge, edge coverage only) which
edges each input of fuzz/corpus/TARGET reaches, then picks inputs greedily (most new edges
first) until MAX_FILES or nothing new, deletes the rest and prints how many edges were kept.
"""

import os
import subprocess
import sys
import tempfile

FUZZ_DIR = os.path.dirname(os.path.abspath(__file__))


def edges_per_input(binary, corpus):
    """Runs a merge with a control file and returns {path: set of covered edges}."""
    with tempfile.TemporaryDirectory() as scratch:
        control = os.path.join(scratch, "control")
        out = os.path.join(scratch, "out")
        os.mkdir(out)
        subprocess.run(
            [binary, "-merge=1", "-use_counters=0", "-timeout=10",
             f"-merge_control_file={control}", out, corpus],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        with open(control, encoding="utf-8") as f:
            lines = f.read().splitlines()
    count = int(lines[0])
    paths = lines[2:2 + count]
    edges = {}
    for line in lines[2 + count:]:
        if line.startswith("COV "):
            _, index, *covered = line.split()
            edges[paths[int(index)]] = set(map(int, covered))
    return edges


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    target = sys.argv[1]
    max_files = int(sys.argv[2]) if len(sys.argv) == 3 else 300
    corpus = os.path.join(FUZZ_DIR, "corpus", target)
    binary = os.path.join(FUZZ_DIR, "target", "x86_64-unknown-linux-gnu", "release", target)
    edges = edges_per_input(binary, corpus)
    total = set().union(*edges.values()) if edges else set()
    covered, chosen = set(), set()
    while len(chosen) < max_files:
        best = max(edges, key=lambda p: (len(edges[p] - covered), -os.path.getsize(p)),
                   default=None)
        if best is None or not edges[best] - covered:
            break
        covered |= edges.pop(best)
        chosen.add(best)
    removed = 0
    for name in os.listdir(corpus):
        path = os.path.join(corpus, name)
        if path not in chosen:
            os.remove(path)
            removed += 1
    print(f"{target}: kept {len(chosen)} inputs covering {len(covered)} of {len(total)} "
          f"edges; removed {removed}")


if __name__ == "__main__":
    main()
