"""Plotting helpers shared by plot_convergence.py and report.py (matplotlib, Agg backend)."""
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
SEED_LINESTYLES = ("-", ":", "-.", (0, (5, 1, 1, 1, 1, 1)))


def fmt_order(value, stderr=None):
    """'1.97±0.005': order to 2 decimals, standard error to 1 significant digit."""
    if not math.isfinite(value):
        return "n/a"
    if stderr is None or not math.isfinite(stderr):
        return f"{value:.2f}"
    return f"{value:.2f}±{stderr:.1g}"


def solver_styles(series):
    """Colour and marker per solver label, fixed over all panels and figures of one file."""
    solvers = list(dict.fromkeys(s["solver"] for s in series))
    # Up to 10 solvers: tab10; more: tab20's 20 colours (with the markers, distinct up to 220).
    colours = 10 if len(solvers) <= 10 else 20
    cmap = plt.get_cmap(f"tab{colours}")
    return {name: (cmap(i % colours), MARKERS[i % len(MARKERS)]) for i, name in enumerate(solvers)}


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


def reference_slopes(ax, x_lo, x_hi, y_lo, y_hi, orders=(1, 2, 3, 4)):
    """Dashed NFE^-p guides fanning out from just above the largest error at the smallest NFE.

    Starting all guides at one point keeps them out of the data at small NFE and lets each data
    line be compared with a straight line of known slope; each stops at the bottom of the data.
    """
    x0, y0 = x_lo, y_hi * 2.0
    for p in orders:
        x_end = min(x_hi, x0 * (y0 / y_lo) ** (1.0 / p))
        x = np.geomspace(x0, x_end, 32)
        ax.plot(x, y0 * (x / x0) ** -p, ls=(0, (4, 3)), color="0.55", lw=0.9, zorder=1)
        ax.annotate(f"NFE$^{{-{p}}}$", (x_end, y0 * (x_end / x0) ** -p), fontsize=8, color="0.4",
                    xytext=(2, 0), textcoords="offset points", va="center")


def draw_convergence(ax, series, styles):
    """GTE RMS vs NFE on log-log axes, one line per series; hollow markers for cells a fit must
    not use (near the reference-error floor, or failed: diverged or step control gave up)."""
    seeds = sorted({s["seed"] for s in series})
    xs, ys, hidden, hollow_any = [], [], 0, False
    for s in series:
        color, marker = styles[s["solver"]]
        nfe, gte = np.asarray(s["nfe"], float), s["gte_rms"]
        finite = np.isfinite(gte) & (gte > 0)
        hidden += int((~finite).sum())
        hollow = s["near_floor"] | np.array([st != "ok" for st in s["status"]])
        hollow_any |= bool((hollow & finite).any())
        seed = f" seed {s['seed']}" if len(seeds) > 1 else ""
        dashes = SEED_LINESTYLES[seeds.index(s["seed"]) % len(SEED_LINESTYLES)]
        label = (f"{s['solver']}{seed} (p={fmt_order(s['gte_order'], s['gte_order_stderr'])}, "
                 f"theory {s['order_theory']})")
        ax.plot(nfe[finite], gte[finite], color=color, lw=1.3, ls=dashes, marker=marker, ms=5, label=label,
                markevery=list(~hollow[finite]), zorder=3)
        mask = finite & hollow
        ax.plot(nfe[mask], gte[mask], ls="none", marker=marker, ms=5, mfc="white", mec=color, zorder=4)
        xs.extend(nfe[finite]), ys.extend(gte[finite])
    ax.set_yscale("log")
    log2_nfe_axis(ax)
    ax.set_xlabel(NFE_LABEL), ax.set_ylabel(GTE_LABEL)
    ax.grid(True, which="major", alpha=0.3)
    if xs:
        y_lo, y_hi = min(ys), max(ys)
        reference_slopes(ax, min(xs), max(xs), y_lo, y_hi)
        ax.set_ylim(y_lo / 3, y_hi * 6)
        ax.set_xlim(min(xs) / 1.15, max(xs) * 1.4)
    if hollow_any:
        ax.plot([], [], ls="none", marker="o", mfc="none", mec="0.3", label="hollow: near floor or failed")
    if hidden:
        ax.text(0.98, 0.98, f"{hidden} cell{'s' * (hidden != 1)} with non-finite GTE not shown", transform=ax.transAxes,
                ha="right", va="top", fontsize=8, color="firebrick")
    # Below the axes: inside, it would hide data whatever corner it took.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)


def convergence_figure(results, keys=PANEL_KEYS):
    """One panel per (model, schedule, spacing): GTE RMS vs NFE for every solver."""
    series = results["series"]
    styles = solver_styles(series)
    groups, common = panels(series, keys)
    entries = max(len(members) for _, members in groups)
    fig, axes = grid(len(groups), height=4.4 + 0.17 * entries)
    for ax, (title, members) in zip(axes, groups):
        draw_convergence(ax, members, styles)
        ax.set_title(title)
    suptitle(fig, f"Global truncation error vs NFE — {results['stem']}", common)
    return fig
