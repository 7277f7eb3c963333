"""The course's plot style and the few plot helpers several notebooks share."""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
import matplotlib.pyplot as plt

COURSE_STYLE = {
    "figure.figsize": (9.0, 3.6),
    "figure.dpi": 90,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.2,
    "date.converter": "concise",
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (inline PNGs, light grid, no top/right spines)."""
    mpl.rcParams.update(COURSE_STYLE)


def mark_period(ax: plt.Axes, start, end, label: str | None = None, color: str = "tab:red") -> None:
    """Shade the time span [start, end] on ``ax`` (e.g. a crisis) and optionally label it."""
    ax.axvspan(start, end, color=color, alpha=0.12, label=label)


LSTM_EQUATIONS = (
    r"$i_t = \sigma(W_{ii}\,x_t + b_{ii} + W_{hi}\,h_{t-1} + b_{hi})$",
    r"$f_t = \sigma(W_{if}\,x_t + b_{if} + W_{hf}\,h_{t-1} + b_{hf})$",
    r"$g_t = \tanh(W_{ig}\,x_t + b_{ig} + W_{hg}\,h_{t-1} + b_{hg})$",
    r"$o_t = \sigma(W_{io}\,x_t + b_{io} + W_{ho}\,h_{t-1} + b_{ho})$",
    r"$c_t = f_t \odot c_{t-1} + i_t \odot g_t$",
    r"$h_t = o_t \odot \tanh(c_t)$",
)


def draw_lstm_cell(title: str = "One LSTM cell (PyTorch's gate order i, f, g, o)") -> plt.Figure:
    """Draw an LSTM cell with matplotlib: inputs x_t, h_(t-1), c_(t-1); gates i, f, g, o; outputs h_t, c_t.

    Left panel: boxes for the four gates (sigma or tanh), the cell-state line with its
    forget product (x) and write (+), and the output path h_t = o_t * tanh(c_t). Right panel:
    the gate equations (:data:`LSTM_EQUATIONS`) in mathtext. No external image or network.
    Returns the figure.
    """
    from matplotlib.patches import Circle, FancyBboxPatch

    fig, (ax, ax_eq) = plt.subplots(1, 2, figsize=(11.5, 4.6), gridspec_kw={"width_ratios": [1.25, 1]})
    for a in (ax, ax_eq):
        a.set_axis_off()
    ax.set_xlim(-0.3, 10.3)
    ax.set_ylim(-0.4, 7.0)
    ax.set_aspect("equal")
    cell_color, hidden_color = "tab:blue", "0.25"

    def line(points, color=hidden_color, lw=1.4, arrow=True):
        xs, ys = zip(*points)
        ax.plot(xs[:-1] + (xs[-1],), ys, color=color, lw=lw, solid_capstyle="butt", zorder=1)
        if arrow:
            ax.annotate("", xy=points[-1], xytext=points[-2], zorder=2,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=lw, shrinkA=0, shrinkB=0))

    def node(center, symbol):
        ax.add_patch(Circle(center, 0.3, facecolor="white", edgecolor="0.2", lw=1.3, zorder=3))
        ax.text(*center, symbol, ha="center", va="center", fontsize=13, zorder=4)

    def gate(center, function, name, color):
        x, y = center
        ax.add_patch(FancyBboxPatch((x - 0.42, y - 0.32), 0.84, 0.64, boxstyle="round,pad=0.04",
                                    facecolor=color, edgecolor="0.2", alpha=0.9, zorder=3))
        ax.text(x, y, function, ha="center", va="center", fontsize=11, zorder=4)
        ax.text(x - 0.1, y + 0.62, name, ha="right", va="center", fontsize=12, zorder=4)

    ax.add_patch(FancyBboxPatch((0.9, 0.7), 7.6, 5.3, boxstyle="round,pad=0.1",
                                facecolor="0.96", edgecolor="0.6", zorder=0))
    # the cell-state line: c_(t-1) -> (x f_t) -> (+ i_t g_t) -> c_t
    y_c, y_h, y_gate = 5.2, 1.5, 2.8
    line([(0.0, y_c), (2.3, y_c)], cell_color, lw=2.6)
    line([(2.9, y_c), (4.3, y_c)], cell_color, lw=2.6)
    line([(4.9, y_c), (10.0, y_c)], cell_color, lw=2.6)
    ax.text(0.0, y_c + 0.35, r"$c_{t-1}$", fontsize=13, color=cell_color)
    ax.text(9.3, y_c + 0.35, r"$c_t$", fontsize=13, color=cell_color)
    node((2.6, y_c), r"$\times$")
    node((4.6, y_c), r"$+$")
    # inputs: h_(t-1) from the left, x_t from below, both feed every gate
    line([(0.0, y_h), (6.2, y_h)], arrow=False)
    line([(1.5, -0.3), (1.5, y_h)], arrow=False)
    ax.add_patch(Circle((1.5, y_h), 0.08, color=hidden_color, zorder=2))
    ax.text(0.0, y_h + 0.25, r"$h_{t-1}$", fontsize=13)
    ax.text(1.7, -0.3, r"$x_t$", fontsize=13, va="bottom")
    sigma_color, tanh_color = "#fdd49e", "#c7e9c0"
    gates = {"f": (2.6, r"$\sigma$", sigma_color), "i": (3.7, r"$\sigma$", sigma_color),
             "g": (5.1, r"$\tanh$", tanh_color), "o": (6.2, r"$\sigma$", sigma_color)}
    for name, (x, function, color) in gates.items():
        line([(x, y_h), (x, y_gate - 0.36)])
        gate((x, y_gate), function, rf"${name}_t$", color)
    # forget: f_t multiplies c_(t-1)
    line([(2.6, y_gate + 0.36), (2.6, y_c - 0.3)])
    # write: i_t * g_t added to the cell state
    y_write = 4.0
    node((4.4, y_write), r"$\times$")
    line([(3.7, y_gate + 0.36), (3.7, y_write), (4.1, y_write)])
    line([(5.1, y_gate + 0.36), (5.1, y_write), (4.7, y_write)])
    line([(4.4, y_write + 0.3), (4.4, y_c - 0.22)])
    # output: h_t = o_t * tanh(c_t)
    x_out = 7.4
    line([(x_out, y_c), (x_out, 4.35)], cell_color, lw=1.6)
    gate((x_out, 4.0), r"$\tanh$", "", tanh_color)
    node((x_out, y_gate), r"$\times$")
    line([(x_out, 3.68), (x_out, y_gate + 0.3)])
    line([(6.62, y_gate), (x_out - 0.3, y_gate)])
    line([(x_out, y_gate - 0.3), (x_out, y_h), (10.0, y_h)])
    line([(8.8, y_h), (8.8, 6.8)])
    ax.add_patch(Circle((8.8, y_h), 0.08, color=hidden_color, zorder=2))
    ax.text(9.3, y_h + 0.25, r"$h_t$", fontsize=13)
    ax.text(8.95, 6.55, r"$h_t$ (output)", fontsize=11)
    ax.text(1.0, 6.35, "cell state: multiplied by $f_t$, then $i_t \\odot g_t$ added", fontsize=9.5, color=cell_color)

    ax_eq.set_xlim(0, 1)
    ax_eq.set_ylim(0, 1)
    ax_eq.text(0.0, 0.95, "gate equations", fontsize=11, weight="bold", va="top")
    for row, equation in enumerate(LSTM_EQUATIONS):
        ax_eq.text(0.0, 0.82 - row * 0.115 - (0.04 if row >= 4 else 0.0), equation, fontsize=12, va="top")
    ax_eq.text(0.0, 0.03, r"$\sigma(z) = 1/(1 + e^{-z})$ in $(0, 1)$;  $\tanh$ in $(-1, 1)$;  "
               r"$\odot$: elementwise product", fontsize=9.5, va="bottom", color="0.3")
    fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig


def plot_window(ax: plt.Axes, values, spec, start: int, context: int = 3, forecast=None,
                value_label: str = "value") -> None:
    """Draw one sliding window on a time axis counted in rows from the window's last input row (t = 0).

    ``spec`` describes the window (anything with ``input_offsets`` and ``label_offsets``, such as
    ``course_lib.windows.WindowSpec``); the window starts at row ``start`` of ``values`` (1-D array or
    Series). Drawn: ``context`` rows either side as a thin grey line, the input rows as blue dots on a
    shaded span, the label row(s) as green stars, rows skipped between the last input and the first label
    (a horizon > 1 with a single label) as a hatched band, and an optional ``forecast`` at the label rows
    as orange crosses. The caller sets the title.
    """
    series = np.asarray(values, dtype=float).ravel()
    inputs = start + np.asarray(spec.input_offsets)
    labels = start + np.asarray(spec.label_offsets)
    if start < 0 or labels[-1] >= len(series):
        raise ValueError(f"a window starting at row {start} needs rows {start}..{labels[-1]}, "
                         f"but values have {len(series)} rows")
    origin = inputs[-1]
    lo, hi = max(0, start - context), min(len(series), labels[-1] + context + 1)
    rows = np.arange(lo, hi)
    ax.plot(rows - origin, series[lo:hi], color="0.55", linewidth=1.0, zorder=1, label="series")
    ax.axvspan(inputs[0] - origin - 0.5, 0.5, color="tab:blue", alpha=0.10, zorder=0)
    ax.plot(inputs - origin, series[inputs], "o", color="tab:blue", markersize=4, zorder=3,
            label=f"inputs: {len(inputs)} rows, t-{len(inputs) - 1}..t")
    if labels[0] - origin > 1:
        ax.axvspan(0.5, labels[0] - origin - 0.5, facecolor="none", edgecolor="0.5", hatch="///", linewidth=0,
                   zorder=0, label=f"skipped: {labels[0] - origin - 1} row(s)")
    span = f"t+{labels[0] - origin}" + (f"..t+{labels[-1] - origin}" if len(labels) > 1 else "")
    ax.plot(labels - origin, series[labels], "*", color="tab:green", markersize=11, zorder=4,
            label=f"label{'s' if len(labels) > 1 else ''}: {span}")
    if forecast is not None:
        ax.plot(labels - origin, np.asarray(forecast, dtype=float).ravel(), "x", color="tab:orange",
                markersize=8, markeredgewidth=2, zorder=5, label="forecast")
    ax.axvline(0.5, color="black", linewidth=0.8, linestyle=":", zorder=2, label="forecast made after row t")
    ax.set_xlabel("rows (trading days) from the window's last input, t")
    ax.set_ylabel(value_label)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
