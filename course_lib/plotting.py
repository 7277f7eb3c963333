"""The course's plot style and the few plot helpers several notebooks share."""
from __future__ import annotations

import matplotlib as mpl
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
