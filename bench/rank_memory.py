#!/usr/bin/python3
"""Peak memory of a command and the processes it starts, e.g. the MPI ranks of a sweep.

Runs the command and, every --interval seconds until it exits, sums the proportional set size
(PSS, /proc/PID/smaps_rollup) of the pfode processes among its descendants: memory that ranks
share (an MPI shared-memory window) counts once, split between them, and each rank's own copy
counts in full. Prints the peak of that sum, the command's exit status and its wall time. Linux.

Usage: /usr/bin/python3 bench/rank_memory.py [--interval 0.5] [--name pfode] -- COMMAND ...
"""
import argparse
import os
import subprocess
import sys
import time


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def descendants(pid):
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:  # the process ended meanwhile
        pass
    return 0


def named(pid, name):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == name
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    ap.add_argument("--name", default="pfode", help="processes counted (their command name)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    a = ap.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        ap.error("give the command after --")
    start = time.perf_counter()
    proc = subprocess.Popen(command)
    peak, peak_processes = 0, 0
    while proc.poll() is None:
        counted = [p for p in [proc.pid] + descendants(proc.pid) if named(p, a.name)]
        total = sum(pss_kb(p) for p in counted)
        if total > peak:
            peak, peak_processes = total, len(counted)
        time.sleep(a.interval)
    wall = time.perf_counter() - start
    print(f"peak PSS of the {a.name} processes: {peak / 1e6:.2f} GB ({peak_processes} processes, sampled every "
          f"{a.interval} s); exit status {proc.returncode}; {wall:.1f} s")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
