"""Read a pfode results file (HDF5, format "pfode-results-1") into plain Python structures.

The analysis scripts go through this module only, so the file layout is decoded in one place.
Values keep the exact numbers stored in the file (float64 attributes become Python floats), so
tables written from them can be compared bit for bit against h5py.
"""
import os
import sys

import h5py
import numpy as np

FORMAT = "pfode-results-1"
PROVENANCE_KEYS = ("pfode_version", "git_commit", "kokkos_version", "execution_space", "host",
                   "utc_start", "utc_end", "command_line", "config_path", "mpi_ranks",
                   "external_runs", "problem_file", "problem_id")  # the last three: pfode score only
SERIES_KEY = ("model", "schedule", "spacing", "solver", "seed")
FIT_PREFIXES = ("gte", "gte_median", "lte")


class ResultsError(Exception):
    """The file is missing, unreadable, not a pfode results file, or lacks records."""


def _plain(value):
    """h5py attribute -> str, int, float or numpy array (bytes decoded: older writers use them)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [_plain(v) for v in value.tolist()]
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def _attrs(obj):
    return {key: _plain(value) for key, value in obj.attrs.items()}


def _datasets(group):
    return {key: np.asarray(group[key][()]) for key in group if isinstance(group[key], h5py.Dataset)}


def _read_cell(group):
    cell = _attrs(group)
    cell.update(_datasets(group))
    # Solver options are stored as "variable=t" (newer files) or a "variable" attribute.
    if "variable" not in cell:
        options = dict(item.split("=", 1) for item in str(cell.get("options", "")).split(",") if "=" in item)
        cell["variable"] = options.get("variable", "")
    return cell


def _read_series(name, group, cells):
    series = _attrs(group)
    series["id"] = int(name)
    series.update(_datasets(group))
    series["cells"] = [int(i) for i in series.get("cells", [])]
    members = [cells[i] for i in series["cells"]]
    series["cell_records"] = members
    # Per-cell values along the series (by increasing NFE), gathered for plotting and tables.
    series["gte_rms"] = np.array([c["gte_rms"] for c in members], dtype=float)
    series["gte_median"] = np.array([c["gte_median"] for c in members], dtype=float)
    series["nfe_budget"] = np.array([c["nfe_budget"] for c in members], dtype=int)
    series["near_floor"] = np.array([bool(c["near_floor"]) for c in members], dtype=bool)
    series["status"] = [c["status"] for c in members]
    if "nfe" not in series:
        series["nfe"] = np.array([c["nfe"] for c in members], dtype=float)
    return series


def _listed(items, most=5):
    items = [str(i) for i in items]
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _check_complete(path, references, cells, series):
    """Every record the file's cells and series point to is in it: cells numbered 0..N-1, each in
    a series, each series' cells, and the reference of each cell's (model, schedule, seed). pfode
    writes a results file only when its plan's every record is present, so a gap means the file
    was damaged or edited since; a report from it would silently leave records out."""
    problems = []
    missing = sorted(set(range(max(cells, default=-1) + 1)) - set(cells))
    if missing:
        problems.append(f"missing cells {_listed(missing)}")
    unlisted = sorted(set(cells) - {i for ids in series.values() for i in ids})
    if unlisted:
        problems.append(f"cells in no series {_listed(unlisted)}")
    for name, ids in sorted(series.items()):
        absent = sorted(set(ids) - set(cells))
        if absent:
            problems.append(f"series {name} lists missing cells {_listed(absent)}")
    needed = {f"{c['model']}__{c['schedule']}__seed{c['seed']}" for c in cells.values()}
    if needed - set(references):
        problems.append(f"/references lacks {_listed(sorted(needed - set(references)))}")
    if problems:
        raise ResultsError(f"{path}: incomplete results file: " + "; ".join(problems))


def load(path):
    """Load a whole results file.

    Returns a dict: path, stem, provenance (dict), config (INI text), models, references (dicts
    keyed by group name), cells (list of dicts, by id, attributes plus datasets as numpy arrays),
    series (list of dicts: attributes, datasets, and the member cells' gte_rms, gte_median,
    nfe_budget, near_floor, status) and sources ([(path, provenance)]). Cells and series carry
    external = True in the results of `pfode score`.
    """
    if not os.path.isfile(path):
        raise ResultsError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise ResultsError(f"{path}: not an HDF5 file") from None
    with f:
        fmt = _plain(f.attrs.get("format", ""))
        if fmt != FORMAT:
            found = f"format {fmt!r}" if fmt else "no format attribute"
            raise ResultsError(f"{path}: not a pfode results file ({found}, expected {FORMAT!r})")
        provenance = {key: _plain(f.attrs[key]) for key in PROVENANCE_KEYS if key in f.attrs}
        config = f["config"].asstr()[()] if "config" in f else ""
        models = {name: {**_attrs(g), **_datasets(g)} for name, g in f.get("models", {}).items()}
        references = {name: _attrs(g) for name, g in f.get("references", {}).items()}
        cells = {int(name): _read_cell(g) for name, g in f.get("cells", {}).items()}
        members = {name: [int(i) for i in g["cells"][()]] for name, g in f.get("series", {}).items()}
        _check_complete(path, references, cells, members)
        series = [_read_series(name, g, cells) for name, g in sorted(f.get("series", {}).items())]
    external = "external_runs" in provenance  # scored runs of a sampler outside pfode
    for item in list(cells.values()) + series:
        item["external"] = external
    return {"path": path, "stem": os.path.splitext(os.path.basename(path))[0], "provenance": provenance,
            "config": config, "models": models, "references": references,
            "cells": [cells[i] for i in sorted(cells)], "series": series, "sources": [(path, provenance)]}


def merge(files):
    """Several loaded results files as one (pfode's own solvers beside the scored runs of a sampler
    outside pfode): their cells, series and references side by side. A solver label found in more
    than one file gets the file's stem in brackets; reference names get it in front."""
    if len(files) == 1:
        return files[0]
    owners = {}
    for r in files:
        for c in r["cells"]:
            owners.setdefault(c["solver"], set()).add(r["stem"])
    cells, series, references = [], [], {}
    for r in files:
        renamed = {}
        for c in r["cells"]:
            renamed[id(c)] = dict(c, solver=c["solver"] + (f" [{r['stem']}]" if len(owners[c["solver"]]) > 1 else ""))
            cells.append(renamed[id(c)])
        for s in r["series"]:
            members = [renamed[id(c)] for c in s["cell_records"]]
            series.append(dict(s, solver=members[0]["solver"], cell_records=members))
        references.update({f"{r['stem']}: {name}": ref for name, ref in r["references"].items()})
    first = files[0]
    return dict(first, path=" + ".join(r["path"] for r in files), stem="+".join(r["stem"] for r in files),
                references=references, cells=cells, series=series,
                sources=[source for r in files for source in r["sources"]])


def has_group(path, name):
    """Whether path is an HDF5 file with a top-level group name (e.g. /likelihood or /optimize)."""
    try:
        with h5py.File(path, "r") as f:
            return name in f
    except OSError:
        return False


def load_or_exit(path, prog=None):
    """load(), but a bad input file ends the script with one line on stderr and exit status 2."""
    try:
        return load(path)
    except ResultsError as error:
        prog = prog or os.path.basename(sys.argv[0])
        print(f"{prog}: error: {error}", file=sys.stderr)
        sys.exit(2)


def group(items, keys):
    """Group dicts by the tuple of their values at keys, keeping first-appearance order."""
    groups = {}
    for item in items:
        groups.setdefault(tuple(item[k] for k in keys), []).append(item)
    return list(groups.items())
