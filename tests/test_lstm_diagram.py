"""The LSTM cell diagram of chapter 01 (course_lib.plotting.draw_lstm_cell): drawn, labelled, renderable."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.mathtext import MathTextParser  # noqa: E402

from course_lib.plotting import LSTM_EQUATIONS, draw_lstm_cell  # noqa: E402


@pytest.fixture(scope="module")
def figure():
    fig = draw_lstm_cell()
    fig.canvas.draw()                      # renders every mathtext label; a bad expression raises here
    yield fig
    plt.close(fig)


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_cell_shows_its_inputs_outputs_gates_and_operations(figure):
    labels = texts(figure)
    for needed in [r"$x_t$", r"$h_{t-1}$", r"$c_{t-1}$", r"$h_t$", r"$c_t$",          # inputs and outputs
                   r"$i_t$", r"$f_t$", r"$g_t$", r"$o_t$"]:                          # the four gates
        assert needed in labels, f"missing label {needed}"
    assert labels.count(r"$\sigma$") == 3, "i, f and o are sigmoids"
    assert labels.count(r"$\tanh$") == 2, "g and the output squashing are tanh"
    assert labels.count(r"$\times$") == 3 and labels.count(r"$+$") == 1, "forget x, write x and +, output x"
    assert figure.get_suptitle().startswith("One LSTM cell")


def test_the_equations_sit_beside_the_cell_in_pytorchs_gate_order(figure):
    equations = [t.get_text() for t in figure.axes[1].texts]
    assert [e for e in equations if e in LSTM_EQUATIONS] == list(LSTM_EQUATIONS)
    assert [e[1] for e in LSTM_EQUATIONS[:4]] == ["i", "f", "g", "o"]
    assert r"c_t = f_t \odot c_{t-1} + i_t \odot g_t" in LSTM_EQUATIONS[4]
    assert r"h_t = o_t \odot \tanh(c_t)" in LSTM_EQUATIONS[5]
    parser = MathTextParser("agg")
    for equation in LSTM_EQUATIONS:
        parser.parse(equation)                 # valid mathtext, no LaTeX installation needed


def test_the_diagram_is_drawn_not_loaded(figure):
    assert all(not ax.images for ax in figure.axes), "no external image"
    assert all(not ax.axison for ax in figure.axes), "a diagram has no data axes"
