"""Plotting helpers of report.py (matplotlib, Agg backend)."""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from pfode_results import group  # noqa: E402

DPI = 120
PANEL_KEYS = ("model", "schedule", "spacing")
NFE_LABEL = "NFE (model evaluations per sample)"
GTE_LABEL = "GTE, RMS over samples"
LAMBDA_LABEL = "λ = log(α/σ) (half log-SNR); integration runs left to right"
MARKERS = "osD^vP*Xh<>"
# Most curves one panel shows: beyond tab10's colours (and the markers) they cannot be told apart.
MAX_CURVES = 10
SEED_LINESTYLES = ("-", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))


def fmt_order(value, stderr=None):
    """'1.97±0.005': order to 2 decimals, standard error to 1 significant digit."""
    if not math.isfinite(value):
        return "n/a"
    if stderr is None or not math.isfinite(stderr):
        return f"{value:.2f}"
    return f"{value:.2f}±{stderr:.1g}"


def solver_labeller(items):
    """A function series or cell -> its solver's label in legends and panels: the solver as written,
    with the theoretical order added (' (p=3)') where the solver occurs with several in the file
    (dpm-solver-fast's order depends on the NFE budget, so its series split by order)."""
    orders = {}
    for item in items:
        orders.setdefault(item["solver"], set()).add(item["order_theory"])
    return lambda item: item["solver"] + (f" (p={item['order_theory']})" if len(orders[item["solver"]]) > 1 else "")


def solver_styles(labels):
    """Colour and marker per label, in the order given."""
    labels = list(dict.fromkeys(labels))
    # Up to 10 labels: tab10; more: tab20's 20 colours (with the markers, distinct up to 220).
    colours = 10 if len(labels) <= MAX_CURVES else 20
    cmap = plt.get_cmap(f"tab{colours}")
    return {name: (cmap(i % colours), MARKERS[i % len(MARKERS)]) for i, name in enumerate(labels)}


def panel_styler(items, label):
    """A function (labels of one panel) -> styles: one colour per solver over all panels and figures of
    the file while its solvers fit tab10; with more, each panel's own (split_crowded keeps a panel
    within MAX_CURVES, so its colours stay distinct)."""
    file_styles = solver_styles(label(i) for i in items)
    if len(file_styles) <= MAX_CURVES:
        return lambda labels: file_styles
    return solver_styles


def panels(items, keys=PANEL_KEYS):
    """Group series or cells into panels, with a title naming only what varies between panels.

    Returns (panels, common): panels is a list of (title, items); common names what all panels
    share, for the figure title.
    """
    groups = group(items, keys)
    varying = [i for i, _ in enumerate(keys) if len({k[i] for k, _ in groups}) > 1]
    shown = varying or list(range(len(keys)))
    common = ", ".join(f"{keys[i]} {groups[0][0][i]}" for i in range(len(keys)) if i not in varying)
    return [(" · ".join(str(k[i]) for i in shown), members) for k, members in groups], common


def split_crowded(panels, label):
    """Panels with more than MAX_CURVES labels, split into one panel per theoretical GTE order, and
    an order that still has too many into near-equal chunks (labels in the given order)."""
    out = []
    for title, items in panels:
        if len({label(i) for i in items}) <= MAX_CURVES:
            out.append((title, items))
            continue
        for (order,), members in sorted(group(items, ("order_theory",)), key=lambda g: g[0]):
            labels = list(dict.fromkeys(label(i) for i in members))
            chunks = math.ceil(len(labels) / MAX_CURVES)
            size = math.ceil(len(labels) / chunks)
            for k in range(chunks):
                chunk = set(labels[k * size:(k + 1) * size])
                part = f" ({k + 1}/{chunks})" if chunks > 1 else ""
                out.append((f"{title} · GTE order {order}{part}", [i for i in members if label(i) in chunk]))
    return out


def grid(n, width=5.2, height=4.2, ncols=3):
    """A figure with n axes in rows of at most ncols; unused axes are removed."""
    ncols = min(n, ncols)
    nrows = max(1, math.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             layout="constrained")
    axes = list(axes.flat)
    for ax in axes[n:]:
        ax.remove()
    return fig, axes[:n]


def suptitle(fig, text, common):
    fig.suptitle(f"{text}\n{common}" if common else text, fontsize=12)


def save(fig, path):
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def log2_nfe_axis(ax):
    """Log NFE axis with plain-number ticks at powers of two (NFE budgets usually double)."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def same_curves(curves, rtol=1e-9):
    """Indices of curves grouped by equality: curves is a list of (x, y) arrays; two curves are the
    same method here when their x are equal and their y agree to rtol everywhere (DDIM, DPM-Solver-1
    and DEIS-1 are one method and agree to round-off). Groups keep the order of first appearance."""
    groups = []
    for i, (x, y) in enumerate(curves):
        for g in groups:
            x0, y0 = curves[g[0]]
            if (len(x) == len(x0) and np.array_equal(x, x0) and
                    np.allclose(y, y0, rtol=rtol, atol=0, equal_nan=True)):
                g.append(i)
                break
        else:
            groups.append([i])
    return groups


def joined(names):
    """'a = b = c': the label of methods whose curves coincide."""
    return " = ".join(names)


def order_guides(ax, ends):
    """Dashed NFE^-p guides, one per theoretical order p of the panel: ends maps p to the lowest
    curve of that order's last point (x_end, y_end). The guide runs parallel to where that curve
    should go, a factor 3 below it, over the last factor 4 of NFE (two doublings), so it stays off
    the curves it describes; it is cut where it would leave the axes (the limits are set before)."""
    x_min, _ = ax.get_xlim()
    y_min, y_max = ax.get_ylim()
    for p, (x_end, y_end) in sorted(ends.items()):
        y1 = y_end / 3.0
        if y1 <= y_min:
            continue
        # Left end: a factor 4 in NFE back, or where the guide reaches the top of the axes or the
        # left edge of the data, whichever comes first.
        x0 = max(x_end / 4.0, x_end * (y_max / y1) ** (-1.0 / p), x_min)
        x = np.geomspace(x0, x_end, 16)
        ax.plot(x, y1 * (x / x_end) ** -p, ls=(0, (4, 3)), color="0.45", lw=1.0, zorder=2)
        # Labelled under its middle, where the guide has the curves above it and nothing below.
        x_mid = math.sqrt(x0 * x_end)
        ax.annotate(f"NFE$^{{-{p}}}$", (x_mid, y1 * (x_mid / x_end) ** -p), fontsize=8, color="0.35",
                    xytext=(0, -4), textcoords="offset points", ha="center", va="top")


def draw_convergence(ax, series, styles, label):
    """GTE RMS vs NFE on log-log axes, one line per series (dashed: scored runs of a sampler outside
    pfode); hollow markers for cells a fit must not use (near the reference-error floor, or
    failed: diverged or step control gave up). Series with the same GTE at every NFE (one method
    under several names) are drawn once, labelled 'a = b'."""
    seeds = sorted({s["seed"] for s in series})
    xs, ys, hidden, hollow_any = [], [], 0, False
    ends = {}  # theoretical order -> the lowest curve's last point
    curves = [(np.asarray(s["nfe"], float), np.asarray(s["gte_rms"], float)) for s in series]
    for members in same_curves(curves):
        s = series[members[0]]
        color, marker = styles[label(s)]
        nfe, gte = curves[members[0]]
        finite = np.isfinite(gte) & (gte > 0)
        hidden += int((~finite).sum())
        hollow = s["near_floor"] | np.array([st != "ok" for st in s["status"]])
        hollow_any |= bool((hollow & finite).any())
        seed = f" seed {s['seed']}" if len(seeds) > 1 else ""
        dashes = SEED_LINESTYLES[seeds.index(s["seed"]) % len(SEED_LINESTYLES)]
        if s.get("external"):  # scored runs of a sampler outside pfode: dashed beside pfode's solvers
            dashes = (0, (4, 2))
        # "fitted", not "p=": a label may carry the theoretical order as "(p=3)".
        name = joined([label(series[m]) for m in members])
        text = f"{name}{seed}: fitted {fmt_order(s['gte_order'], s['gte_order_stderr'])} (theory {s['order_theory']})"
        ax.plot(nfe[finite], gte[finite], color=color, lw=1.3, ls=dashes, marker=marker, ms=5, label=text,
                markevery=list(~hollow[finite]), zorder=3)
        mask = finite & hollow
        ax.plot(nfe[mask], gte[mask], ls="none", marker=marker, ms=5, mfc="white", mec=color, zorder=4)
        xs.extend(nfe[finite]), ys.extend(gte[finite])
        if finite.any():
            end = (nfe[finite][-1], gte[finite][-1])
            p = s["order_theory"]
            if p not in ends or end[1] < ends[p][1]:
                ends[p] = end
    ax.set_yscale("log")
    log2_nfe_axis(ax)
    ax.set_xlabel(NFE_LABEL), ax.set_ylabel(GTE_LABEL)
    ax.grid(True, which="major", alpha=0.3)
    if not xs:
        ax.set_ylim(0.1, 1)  # nothing finite to draw: a log axis still needs a positive range
    else:
        y_lo, y_hi = min(ys), max(ys)
        ax.set_ylim(y_lo / 12, y_hi * 3)  # room below the lowest curve for its guide and label
        ax.set_xlim(min(xs) / 1.15, max(xs) * 1.15)
        order_guides(ax, ends)
    if hollow_any:
        ax.plot([], [], ls="none", marker="o", mfc="none", mec="0.3", label="hollow: near floor or failed")
    if ends:
        ax.plot([], [], ls=(0, (4, 3)), color="0.45", label="NFE$^{-p}$: slope of theory p, below the lowest such curve")
    if hidden:
        ax.text(0.98, 0.98, f"{hidden} cell{'s' * (hidden != 1)} with non-finite GTE not shown", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color="firebrick")
    # Below the axes: inside, it would hide data whatever corner it took.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)


def convergence_figure(results, keys=PANEL_KEYS):
    """One panel per (model, schedule, spacing), split by order when crowded: GTE RMS vs NFE per solver."""
    # Samplers without a strong error (langevin, pc: gte_target = "none") have no curve to draw.
    series = [s for s in results["series"] if np.isfinite(np.asarray(s["gte_rms"], float)).any()] or results["series"]
    label = solver_labeller(series)
    styles_of = panel_styler(series, label)
    groups, common = panels(series, keys)
    groups = split_crowded(groups, label)
    entries = max(len(members) for _, members in groups)
    fig, axes = grid(len(groups), height=4.4 + 0.17 * entries)
    for ax, (title, members) in zip(axes, groups):
        draw_convergence(ax, members, styles_of([label(s) for s in members]), label)
        ax.set_title(title)
    suptitle(fig, f"Global truncation error vs NFE — {results['stem']}", common)
    return fig
