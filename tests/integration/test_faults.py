"""Fault injection: random kill -9, SIGINT and SIGTERM, corrupted checkpoint files, concurrent
starts and full disks thrown at a small sweep. Every scenario must end in a results file
bit-identical to an uninterrupted run's, and every step on the way in a refusal or failure that
names its cause; never in a results file that differs or silently lacks a record.

Usage: test_faults.py PFODE SOURCE_DIR FAULT_SHIM [SCENARIOS [SEED]]
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py

SWEEP = """[run]
out = r.h5
samples = 8
[sweep]
models = g m
schedules = edm
solvers = euler heun rk4
nfe = 8 16 32 64
[model.g]
kind = gaussian
dim = 2
means = 0 1
stds = 0.5 0.4
[model.m]
kind = random-mixture
dim = 3
components = 3
seed = 2
"""
CELLS = 24

# What a step may print when it does not finish: each names its cause.
REFUSALS = (
    "is in use by another pfode run",
    "exists; pass --force to replace it",
    "an interrupted run of this config left",
)


class Failure(Exception):
    pass


class Faults:
    def __init__(self, pfode, source, shim, seed):
        self.pfode, self.shim = pfode, shim
        self.rng = random.Random(seed)
        self.root = tempfile.mkdtemp(prefix="pfode_faults_")
        self.work = os.path.join(self.root, "run")
        os.mkdir(self.work)
        with open(os.path.join(self.root, "sweep.ini"), "w") as f:
            f.write(SWEEP)
        sys.path.insert(0, os.path.join(source, "tests", "integration"))
        import compare_results

        self.compare = compare_results.main
        whole = os.path.join(self.root, "whole")
        os.mkdir(whole)
        start = time.monotonic()
        self.run_to_end([], cwd=whole)
        self.duration = time.monotonic() - start  # of one whole run, to place kills inside it
        self.baseline = os.path.join(whole, "r.h5")
        self.log = []
        self.primary = [self.kill, self.interrupt, self.corrupt, self.concurrent]

    def path(self, *names):
        return os.path.join(self.work, *names)

    def start(self, flags, env=None, cwd=None):
        return subprocess.Popen([self.pfode, "run", "../sweep.ini", "-q"] + flags, cwd=cwd or self.work,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, **(env or {})))

    def finish(self, process):
        _, err = process.communicate()
        return process.returncode, err

    def run_to_end(self, flags, cwd=None):
        status, err = self.finish(self.start(flags, cwd=cwd))
        if status != 0:
            raise Failure(f"pfode run {' '.join(flags)} failed ({status}): {err}")

    def note(self, text):
        self.log.append(text)

    # Checks after every step: an exit status that goes with a message naming its cause, and a
    # results file, if there is one, identical to the uninterrupted run's.
    def check(self, what, status, err, allowed):
        self.note(f"{what}: exit {status}")
        if status not in allowed:
            raise Failure(f"{what}: exit {status} ({err.strip()})")
        if status == 1 and "No space left on device" not in err:
            raise Failure(f"{what}: a failure that does not name a full disk: {err.strip()}")
        if status == 2 and not any(r in err for r in REFUSALS):
            raise Failure(f"{what}: a refusal without a known reason: {err.strip()}")
        if status in (130, 143) and not any(r in err for r in ("continue with: ", "nothing was written", "is complete")):
            raise Failure(f"{what}: interrupted without saying what is left and how to continue: {err.strip()}")
        if os.path.exists(self.path("r.h5")):
            if self.compare(self.baseline, self.path("r.h5")) != 0:
                raise Failure(f"{what}: the results file differs from an uninterrupted run's")

    def flags(self):
        return [["--resume"], ["--resume"], [], ["--force"]][self.rng.randrange(4)]

    # The faults.
    def kill(self):
        flags = self.flags()
        process = self.start(flags)
        time.sleep(self.rng.uniform(0, 1.2 * self.duration))
        process.kill()
        status, err = self.finish(process)
        self.check(f"kill -9 during {flags}", status, err, {0, 2, -9})

    def interrupt(self):
        sig = self.rng.choice([signal.SIGINT, signal.SIGTERM])
        process = self.start(self.flags())
        time.sleep(self.rng.uniform(0, 1.2 * self.duration))
        process.send_signal(sig)
        status, err = self.finish(process)
        # -sig: the signal came before pfode took it over, when nothing was written yet.
        self.check(f"{sig.name}", status, err, {0, 2, 128 + sig, -sig})

    def concurrent(self):
        first, second = self.flags(), self.flags()
        a = self.start(first)
        time.sleep(self.rng.uniform(0, 0.3 * self.duration))
        b = self.start(second)
        for flags, process in ((first, a), (second, b)):
            status, err = self.finish(process)
            self.check(f"concurrent {flags}", status, err, {0, 2})

    def full_disk(self):
        budget = self.rng.randrange(20000, 1500000)
        status, err = self.finish(self.start(self.flags(), {"LD_PRELOAD": self.shim,
                                                            "PFODE_FAULT_WRITE_BUDGET": str(budget)}))
        self.check(f"disk full after {budget} bytes", status, err, {0, 1, 2})

    def corrupt(self):
        partial = self.path("r.h5.partial")
        if not os.path.isdir(partial):  # a checkpoint to damage: the disk fills up at a random point
            budget = self.rng.randrange(20000, 400000)
            status, err = self.finish(self.start(self.flags(), {"LD_PRELOAD": self.shim,
                                                                "PFODE_FAULT_WRITE_BUDGET": str(budget)}))
            self.check(f"disk full after {budget} bytes", status, err, {0, 1, 2})
        files = sorted(f for f in os.listdir(partial) if f.endswith(".h5")) if os.path.isdir(partial) else []
        if not files:
            return
        victim = os.path.join(partial, self.rng.choice(files))
        how = self.rng.choice(["truncate", "zero", "swap", "edit", "delete", "junk"])
        if how == "truncate":
            with open(victim, "r+b") as f:
                f.truncate(self.rng.randrange(os.path.getsize(victim)))
        elif how == "zero":
            size = os.path.getsize(victim)
            with open(victim, "wb") as f:
                f.write(bytes(size))
        elif how == "swap" and len(files) > 1:
            other = self.rng.choice([f for f in files if os.path.join(partial, f) != victim])
            shutil.copyfile(os.path.join(partial, other), victim)
        elif how == "edit":
            with h5py.File(victim, "r+") as f:
                record = f[next(iter(f))]
                if isinstance(record, h5py.Dataset):  # a cell: its bytes (one bit flipped)
                    data = record[()]
                    data[self.rng.randrange(len(data))] ^= 1
                    record[...] = data
                else:
                    key = self.rng.choice(sorted(k for k in record.attrs if k not in ("checksum",)))
                    value = record.attrs[key]
                    record.attrs[key] = value + 1 if not isinstance(value, (str, bytes)) else value + "x"
        elif how == "delete":
            os.remove(victim)
        else:
            victim = os.path.join(partial, f"cells_{self.rng.randrange(CELLS, 99999)}+1.h5")
            with open(victim, "w") as f:
                f.write("junk")
        self.note(f"{how} {os.path.basename(victim)}")

    def scenario(self, number):
        self.log = []
        for name in os.listdir(self.work):
            path = self.path(name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
        # One kill, signal, corruption or concurrent start in turn, and now and then a second fault
        # of any kind (a full disk included) on top of what the first left.
        self.primary[number % len(self.primary)]()
        if self.rng.random() < 0.35:
            self.rng.choice(self.primary + [self.full_disk])()
        # Whatever the faults left, --resume completes the same file (or says it is complete).
        status, err = self.finish(self.start(["--resume"]))
        self.check("final --resume", status, err, {0})
        leftovers = sorted(set(os.listdir(self.work)) - {"r.h5"})
        if leftovers:
            raise Failure(f"left behind after a complete run: {leftovers}")
        print(f"scenario {number}: " + "; ".join(self.log))


def main(pfode, source, shim, scenarios=20, seed=18):
    faults = Faults(pfode, source, shim, seed)
    try:
        for number in range(1, scenarios + 1):
            try:
                faults.scenario(number)
            except Failure as failure:
                print(f"scenario {number} (seed {seed}): {'; '.join(faults.log)}\nFAILED: {failure}")
                return 1
    finally:
        shutil.rmtree(faults.root)
    print(f"{scenarios} scenarios, each ending in the uninterrupted run's results (seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], *(int(a) for a in sys.argv[4:])))
