#!/usr/bin/python3
"""Plot GTE RMS vs NFE (log-log) for every solver of a pfode results file, one figure.

Usage: /usr/bin/python3 analysis/plot_convergence.py results/quickstart.h5 [--out PNG]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plotting  # noqa: E402
from pfode_results import load_or_exit  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="pfode results file (HDF5)")
    parser.add_argument("--out", help="output PNG (default: <stem>_convergence.png next to RESULTS)")
    args = parser.parse_args(argv)
    results = load_or_exit(args.results)
    if not results["series"]:
        parser.exit(2, f"{parser.prog}: error: {args.results}: no convergence series to plot\n")
    out = args.out or os.path.join(os.path.dirname(args.results), results["stem"] + "_convergence.png")
    print(plotting.save(plotting.convergence_figure(results), out))


if __name__ == "__main__":
    main()
