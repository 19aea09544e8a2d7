#!/usr/bin/python3
"""What writing memory for the first time costs on this machine, in seconds per GB.

A sweep's reference states are large (763 MB per rank for convergence-orders at 1024 samples)
and written once, so the cost of first touching memory bounds what MPI ranks on one node can
gain (README, Performance: "What keeps 2 ranks from 2x"). Each round allocates a fresh array,
fills it in eight pieces and frees it, after a pause in which freed memory may be handed back to
the host; the first pieces take memory freed moments before, the later ones memory unused for
longer. With --small-pages the array is not advised to use 2 MiB pages (numpy advises them for
large arrays, as pfode does for the reference states).

Usage: /usr/bin/python3 bench/first_touch.py [--mb 1600] [--pause 4] [--rounds 3] [--small-pages]
"""
import argparse
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mb", type=int, default=1600, help="size of each round's array")
    ap.add_argument("--pause", type=float, default=4.0, help="seconds before each round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--small-pages", action="store_true", help="no 2 MiB page advice (4 KiB pages)")
    a = ap.parse_args()
    np.core.multiarray._set_madvise_hugepage(not a.small_pages)
    pieces = 8
    n = a.mb * (1 << 20) // 8 // pieces * pieces
    piece_gb = n // pieces * 8 / 1e9
    print(f"{a.mb} MB in {pieces} pieces, {'4 KiB' if a.small_pages else '2 MiB'} pages, {a.pause:g} s pause "
          f"before each round; seconds per GB of each piece's first write:")
    for r in range(a.rounds):
        time.sleep(a.pause)
        x = np.empty(n)
        times = []
        for k in range(pieces):
            t0 = time.perf_counter()
            x[k * n // pieces:(k + 1) * n // pieces] = 1.0
            times.append((time.perf_counter() - t0) / piece_gb)
        print(f"round {r}: " + " ".join(f"{t:.2f}" for t in times))
        del x
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
