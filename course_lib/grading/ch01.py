"""Chapter 01 exercises: the LSTM cell from its gate equations."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_lib.grading.registry import Case, Exercise
from course_lib.lstm_scratch import cell_path_gradient, lstm_cell_numpy, lstm_parameter_count, numpy_sigmoid


def forget_gate_reference(x, h_prev, W_f, b_f):
    """The guide's form: f_t = sigmoid(W_f [h_(t-1), x_t] + b_f)."""
    return numpy_sigmoid(W_f @ np.concatenate([h_prev, x]) + b_f)


def cell_step_reference(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
    h_new, c_new, _ = lstm_cell_numpy(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)
    return h_new, c_new


def peephole_step_reference(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, peephole):
    h_new, c_new, _ = lstm_cell_numpy(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, peephole)
    return h_new, c_new


def _torch_cell_arrays(d: int, h: int, batch: int, seed: int) -> tuple:
    """(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) with the weights of a seeded nn.LSTMCell, as float64 arrays."""
    torch.manual_seed(seed)
    cell = nn.LSTMCell(d, h, dtype=torch.float64)
    weights = tuple(p.detach().numpy().copy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    gen = np.random.default_rng(seed)
    return (gen.normal(size=(batch, d)), gen.normal(size=(batch, h)), gen.normal(size=(batch, h))) + weights


STACKING = ("This case has a zero bias, so only W_f [h_prev, x] matters: stack h_prev first, then x "
            "(the first h columns of W_f act on h_prev).")
GATE_ORDER = ("Zero biases here, so a bias mistake cannot explain this one: check the block order (torch: "
              "i, f, g, o = input, forget, cell candidate, output) and the equations.")
BOTH_BIASES = "Both biases enter z: z = x W_ih^T + b_ih + h W_hh^T + b_hh (this case sets one of them to 0)."


def _with_biases(arrays: tuple, keep_ih: bool, keep_hh: bool) -> tuple:
    """A cell case's arrays with bias_ih and/or bias_hh replaced by zeros."""
    x, h, c, weight_ih, weight_hh, bias_ih, bias_hh = arrays
    return (x, h, c, weight_ih, weight_hh, bias_ih if keep_ih else np.zeros_like(bias_ih),
            bias_hh if keep_hh else np.zeros_like(bias_hh))


def _forget_cases():
    gen = np.random.default_rng(0)
    return [
        Case("hand-sized: d=1, h=2", (np.array([0.5]), np.array([1.0, -1.0]),
                                      np.array([[0.2, 0.1, 0.4], [-0.3, 0.5, 1.0]]), np.array([0.0, 0.1]))),
        Case("d=3, h=4, random", (gen.normal(size=3), gen.normal(size=4), gen.normal(size=(4, 7)), gen.normal(size=4))),
        Case("zero bias: only the stacking order matters", (gen.normal(size=2), gen.normal(size=3),
                                                            gen.normal(size=(3, 5)), np.zeros(3)), hint=STACKING),
        Case("saturated gates: huge pre-activations", (np.array([1.0]), np.array([0.0]),
                                                       np.array([[0.0, 800.0], [0.0, -800.0]]), np.zeros(2)),
             hint="Stacked as [h_prev, x] = [0, 1], the pre-activations are +800 and -800: sigmoid gives 1 and 0 "
                  "(make sure you get no NaN). A result of 0.5 means x and h_prev were stacked the other way."),
    ]


def _cell_cases():
    return [
        Case("nn.LSTMCell(3, 4) weights, batch 2", _torch_cell_arrays(3, 4, 2, seed=0)),
        Case("nn.LSTMCell(1, 1) weights, batch 1", _torch_cell_arrays(1, 1, 1, seed=1)),
        Case("nn.LSTMCell(5, 8) weights, batch 3", _torch_cell_arrays(5, 8, 3, seed=2)),
        Case("zero biases: only the gate order matters", _with_biases(_torch_cell_arrays(3, 4, 2, seed=3), False, False),
             hint=GATE_ORDER),
        Case("bias_hh alone (bias_ih = 0)", _with_biases(_torch_cell_arrays(3, 4, 2, seed=4), False, True),
             hint=BOTH_BIASES),
        Case("bias_ih alone (bias_hh = 0)", _with_biases(_torch_cell_arrays(3, 4, 2, seed=5), True, False),
             hint=BOTH_BIASES),
    ]


def _peephole_cases():
    cases = []
    only_o = np.zeros((3, 4))
    only_o[2] = np.random.default_rng(111).normal(size=4)
    only_i_f = np.zeros((3, 4))
    only_i_f[:2] = np.random.default_rng(112).normal(size=(2, 4))
    cases.append(Case("only p_o is set", _torch_cell_arrays(3, 4, 2, 11) + (only_o,),
                      hint="o looks at the NEW cell state: o = sigmoid(z_o + p_o * c_new), with c_new = f c + i g."))
    cases.append(Case("only p_i and p_f are set", _torch_cell_arrays(3, 4, 2, 12) + (only_i_f,),
                      hint="Peephole rows are p_i, p_f, p_o: row 0 goes into the input gate, row 1 into the forget "
                           "gate, each times the previous cell state c."))
    for name, (d, h, batch, seed) in {"d=3, h=4, batch 2": (3, 4, 2, 0), "d=2, h=6, batch 1": (2, 6, 1, 5)}.items():
        peephole = np.random.default_rng(seed + 100).normal(size=(3, h))
        cases.append(Case(name, _torch_cell_arrays(d, h, batch, seed) + (peephole,)))
    cases.append(Case("zero peephole weights give the standard cell", _torch_cell_arrays(2, 3, 2, 9) + (np.zeros((3, 3)),)))
    return cases


def _count_cases():
    hints = {1: "PyTorch gives each gate two bias vectors, b_ih and b_hh: one layer has 4h(d + h + 2) parameters, "
                "not 4h(d + h + 1).",
             2: "The layers after the first read the hidden state of the layer below: their input size is "
                "hidden_size, so each has 4h(h + h + 2)."}
    return [Case(f"input {d}, hidden {h}, {n} layer(s)", (d, h, n), hint=hints[min(n, 2)])
            for d, h, n in [(1, 64, 1), (8, 32, 1), (8, 32, 2), (5, 16, 3), (20, 7, 4)]]


def _path_cases():
    gen = np.random.default_rng(3)
    return [
        Case("three steps, one unit", (np.array([[0.5], [0.9], [0.8]]),),
             hint="By hand: forget gates 0.5, 0.9, 0.8 give rows 0.8, 0.8 * 0.9 = 0.72, 0.72 * 0.5 = 0.36."),
        Case("forget gates near 1 keep the gradient", (np.full((50, 2), 0.99),)),
        Case("random gates, 20 steps, 4 units", (gen.uniform(0.2, 1.0, size=(20, 4)),),
             hint="Row 0 is f_T, row 1 is f_T * f_(T-1), ...: a cumulative product from the end."),
    ]


EXERCISES = [
    Exercise("01.1", "The forget gate, in the guide's notation", "forget_gate", 1, forget_gate_reference,
             _forget_cases, "f_t = sigmoid(W_f [h_(t-1), x_t] + b_f), with [.,.] the concatenation.",
             also_implemented_by=("course_lib.lstm_scratch:cell_step", "course_lib.lstm_scratch:lstm_cell_numpy", "course_lib.lstm_scratch:lstm_cell")),
    Exercise("01.2", "One LSTM cell step, matched to nn.LSTMCell", "lstm_cell_step", 2, cell_step_reference,
             _cell_cases, "Compute z = x W_ih^T + b_ih + h W_hh^T + b_hh, split it into i, f, g, o blocks, "
             "then c_t = f c + i g and h_t = o tanh(c_t); return (h_t, c_t).",
             also_implemented_by=("course_lib.lstm_scratch:cell_step", "course_lib.lstm_scratch:lstm_cell_numpy", "course_lib.lstm_scratch:lstm_cell")),
    Exercise("01.3", "Parameter count of nn.LSTM", "lstm_param_count", 1, lstm_parameter_count, _count_cases,
             "Each layer has 4h(d + h + 2) parameters: four gates, each with input weights, "
             "recurrent weights and two biases."),
    Exercise("01.4", "One peephole LSTM step", "peephole_cell_step", 2, peephole_step_reference, _peephole_cases,
             "Add p_i * c_(t-1) to the input gate's and p_f * c_(t-1) to the forget gate's pre-activation, "
             "and p_o * c_t to the output gate's; peephole rows are p_i, p_f, p_o.",
             also_implemented_by=("course_lib.lstm_scratch:cell_step", "course_lib.lstm_scratch:lstm_cell_numpy", "course_lib.lstm_scratch:lstm_cell")),
    Exercise("01.5", "How far the cell state carries a gradient", "cell_path_gradient", 1, cell_path_gradient,
             _path_cases, "dc_T/dc_(T-k) along the cell path is the product of the last k forget gates."),
]
