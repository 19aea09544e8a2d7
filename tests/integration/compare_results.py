"""Exit 0 when two pfode results files hold the same numbers (bit for bit).

Everything is compared except what records how and when a file was made: wall times and the
root's provenance attributes.
"""
import sys

import h5py
import numpy as np

IGNORED_ATTRS = {"wall_time", "lte_wall_time", "reference_wall_time", "weak_wall_time"}


def same(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
        return False
    if x.dtype.kind == "f":
        return np.array_equal(x, y, equal_nan=True)
    return np.array_equal(x, y)


def main(a_path, b_path):
    a, b = h5py.File(a_path, "r"), h5py.File(b_path, "r")
    problems = []

    def visit(name, obj):
        if name not in b:
            problems.append(f"{name} missing in {b_path}")
            return
        other = b[name]
        if isinstance(obj, h5py.Dataset) and not same(obj[()], other[()]):
            problems.append(f"dataset {name} differs")
        # Both files' keys: an attribute only the second file has is a difference too.
        for key in sorted((set(obj.attrs) | set(other.attrs)) - IGNORED_ATTRS):
            if key not in obj.attrs:
                problems.append(f"attribute {name}@{key} missing in {a_path}")
            elif key not in other.attrs:
                problems.append(f"attribute {name}@{key} missing in {b_path}")
            elif not same(obj.attrs[key], other.attrs[key]):
                problems.append(f"attribute {name}@{key} differs")

    a.visititems(visit)
    b.visititems(lambda name, obj: None if name in a else problems.append(f"{name} missing in {a_path}"))
    if problems:
        print(f"{len(problems)} differences, first: {problems[0]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
