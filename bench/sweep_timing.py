#!/usr/bin/python3
"""Wall time of a whole sweep (`pfode run CONFIG`), for pfode builds and MPI rank counts, in one run.

Every round runs each (build, ranks) pair once, interleaved, so that a slow spell of a shared
machine weighs on every ratio; each pair keeps its best. The CPU time of that run (user + system,
all its processes) is printed beside it: on a machine that others share, the wall time of several
ranks depends on how many cores were free, the CPU time much less. Prints where the time of each build's
one-rank run went, from its results file: reference solves, trajectory kernels and LTE kernels
(summed over references and cells), the rest being start-up, statistics, checkpoint and HDF5.
Runs of one build with different rank counts must give the same file (compared as
tests/integration/compare_results.py does).

Usage: /usr/bin/python3 bench/sweep_timing.py experiments/convergence-orders.ini --samples 1024 \\
           --pfode build/pfode [--baseline OLD_BUILD/pfode] [--ranks 1 2] [--rounds 2]
"""
import argparse, os, resource, shutil, subprocess, sys, tempfile, time

import h5py


def mpi_prefix(ranks):
    if ranks == 1:
        return []
    flags = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "none", "-x", "OMP_NUM_THREADS=1"]
    return flags + (["--allow-run-as-root"] if os.geteuid() == 0 else [])


def parts(path):
    with h5py.File(path, "r") as f:
        ref = sum(g.attrs["wall_time"] for g in f["references"].values())
        traj = sum(c.attrs["wall_time"] for c in f["cells"].values())
        lte = sum(c.attrs["lte_wall_time"] for c in f["cells"].values())
    return ref, traj, lte


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--pfode", default=os.path.join(here, "..", "build", "pfode"))
    ap.add_argument("--baseline", help="another pfode build to time alongside (e.g. before a change)")
    ap.add_argument("--samples", type=int, help="run.samples override")
    ap.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], help="further section.key=value overrides")
    a = ap.parse_args()
    builds = [("pfode", os.path.abspath(a.pfode))] + ([("baseline", os.path.abspath(a.baseline))] if a.baseline else [])
    config = os.path.abspath(a.config)
    overrides = [f"--set=run.samples={a.samples}"] if a.samples else []
    overrides += [f"--set={s}" for s in a.set]
    work = tempfile.mkdtemp(prefix="pfode_sweep_timing_")
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_PROC_BIND="false")
    best = {}
    for r in range(a.rounds):
        for name, exe in builds:
            for ranks in a.ranks:
                where = os.path.join(work, f"{name}_{ranks}")  # the same relative output name in each
                os.makedirs(where, exist_ok=True)
                out = os.path.join(where, "results.h5")
                cmd = mpi_prefix(ranks) + [exe, "run", config, "-o", "results.h5", "--force", "-q"] + overrides
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, env=env, cwd=where)
                wall = time.perf_counter() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                print(f"round {r}: {name}, {ranks} rank(s): {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
                if (name, ranks) not in best or wall < best[(name, ranks)][0]:
                    best[(name, ranks)] = (wall, parts(out), cpu)
    for name, _ in builds:  # same numbers on any rank count
        for ranks in a.ranks[1:]:
            subprocess.run([sys.executable, os.path.join(here, "..", "tests", "integration", "compare_results.py"),
                            os.path.join(work, f"{name}_{a.ranks[0]}", "results.h5"),
                            os.path.join(work, f"{name}_{ranks}", "results.h5")],
                           check=True)
    print(f"\n{os.path.basename(config)}{' ' + ' '.join(overrides) if overrides else ''}: best of {a.rounds} "
          f"interleaved rounds (wall seconds; from the results files: the references of every run, on rank 0 "
          f"with the exchange of the ranks' shares, the other parts of the {a.ranks[0]}-rank runs)\n")
    print("| build | ranks | wall s | CPU s | vs baseline | vs 1 rank | references s | trajectories s | LTE s | rest s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, _ in builds:
        for ranks in a.ranks:
            wall, (ref, traj, lte), cpu = best[(name, ranks)]
            base = best.get(("baseline", ranks))
            one = best[(name, a.ranks[0])][0]
            vs_base = f"{base[0] / wall:.2f}x" if base and name != "baseline" else "-"
            rest = f"{traj:.2f} | {lte:.2f} | {wall - ref - traj - lte:.2f}" if ranks == a.ranks[0] else "- | - | -"
            cols = f"{ref:.2f} | {rest}"
            print(f"| {name} | {ranks} | {wall:.2f} | {cpu:.2f} | {vs_base} | {one / wall:.2f}x | {cols} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
