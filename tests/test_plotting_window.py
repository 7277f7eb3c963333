"""course_lib.plotting.plot_window: the drawn points sit on the rows a WindowSpec reads and predicts."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.plotting import plot_window  # noqa: E402
from course_lib.windows import WindowSpec  # noqa: E402


def drawn(ax, label_start):
    """(x, y) of the line whose legend label starts with ``label_start``."""
    lines = [line for line in ax.get_lines() if line.get_label().split(":")[0].split(" (")[0] == label_start]
    assert len(lines) == 1, [line.get_label() for line in ax.get_lines()]
    return lines[0].get_xdata(), lines[0].get_ydata()


@pytest.mark.parametrize("window, horizon, multi_step, label_x", [
    (5, 1, False, [1]), (5, 4, False, [4]), (6, 3, True, [1, 2, 3])])
def test_inputs_and_labels_are_drawn_on_their_rows(window, horizon, multi_step, label_x):
    values = np.arange(100.0) ** 1.2
    start = 40
    fig, ax = plt.subplots()
    plot_window(ax, values, WindowSpec(window, horizon, multi_step), start, forecast=np.zeros(len(label_x)))
    x, y = drawn(ax, "inputs")
    np.testing.assert_array_equal(x, np.arange(-window + 1, 1))           # t-W+1 .. t
    np.testing.assert_array_equal(y, values[start:start + window])        # independent: rows start..start+W-1
    x, y = drawn(ax, "labels" if multi_step else "label")
    np.testing.assert_array_equal(x, label_x)
    np.testing.assert_array_equal(y, values[start + window - 1 + np.array(label_x)])
    np.testing.assert_array_equal(drawn(ax, "forecast")[0], label_x)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == (1 if horizon > 1 and not multi_step else 0)   # the skipped rows, single label only
    handles, labels = ax.get_legend_handles_labels()
    assert any(text.startswith("inputs") for text in labels) and ax.get_xlabel() and ax.get_ylabel()
    plt.close(fig)


def test_a_window_past_the_end_is_refused():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="needs rows 7..12, but values have 10 rows"):
        plot_window(ax, np.arange(10.0), WindowSpec(4, 2, multi_step=True), start=7)
    plt.close(fig)
