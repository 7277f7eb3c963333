"""course_lib.lstm_scratch against torch.nn.LSTM: outputs, final states and every gradient."""
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.lstm_scratch import (ScratchLSTM, lstm_cell, lstm_cell_numpy, lstm_parameter_count,
                                     numpy_sigmoid, record_gates)

TOLERANCE = {torch.float64: 1e-10, torch.float32: 1e-5}
CONFIGS = [  # (input_size, hidden_size, num_layers, batch_first, with_state)
    (d, h, layers, bf, st)
    for (d, h), layers, bf, st in itertools.product([(1, 3), (5, 8), (7, 16)], [1, 2, 3], [False, True], [False, True])
]


def make_pair(d, h, layers, batch_first, dtype, seed=0):
    torch.manual_seed(seed)
    reference = nn.LSTM(d, h, layers, batch_first=batch_first, dtype=dtype)
    return reference, ScratchLSTM.from_torch(reference)


def make_inputs(d, h, layers, batch_first, with_state, dtype, batch=4, steps=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    shape = (batch, steps, d) if batch_first else (steps, batch, d)
    x = torch.randn(shape, generator=gen, dtype=dtype)
    state = None
    if with_state:
        state = tuple(torch.randn(layers, batch, h, generator=gen, dtype=dtype) for _ in range(2))
    return x, state


def run_with_grads(model, x, state):
    x = x.clone().requires_grad_(True)
    state = None if state is None else tuple(s.clone().requires_grad_(True) for s in state)
    out, (h_n, c_n) = model(x, state) if state is not None else model(x)
    # a loss that touches every output so every gradient path is exercised
    weights = torch.linspace(-1, 1, out.numel(), dtype=out.dtype).reshape(out.shape)
    loss = (out * weights).sum() + (h_n**2).sum() + (c_n**3).sum()
    loss.backward()
    grads = [x.grad] + ([] if state is None else [s.grad for s in state]) + [p.grad for p in model.parameters()]
    return out, h_n, c_n, grads


def assert_close(a, b, tol, what):
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} vs {tuple(b.shape)}"
    diff = (a - b).abs().max().item()
    assert diff <= tol, f"{what}: max difference {diff:.2e} > {tol:.0e}"


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("d, h, layers, batch_first, with_state", CONFIGS)
def test_matches_nn_lstm_forward_and_gradients(d, h, layers, batch_first, with_state, dtype):
    reference, scratch = make_pair(d, h, layers, batch_first, dtype)
    x, state = make_inputs(d, h, layers, batch_first, with_state, dtype)
    expected, got = run_with_grads(reference, x, state), run_with_grads(scratch, x, state)
    tol = TOLERANCE[dtype]
    for name, want, have in zip(["output", "h_n", "c_n"], expected[:3], got[:3]):
        assert_close(have, want, tol, name)
    names = ["grad x"] + (["grad h_0", "grad c_0"] if with_state else []) + \
            [f"grad {n}" for n, _ in reference.named_parameters()]
    assert len(expected[3]) == len(got[3]) == len(names)
    for name, want, have in zip(names, expected[3], got[3]):
        assert_close(have, want, tol, name)


def test_parameters_come_in_nn_lstm_order_with_the_same_names():
    reference, scratch = make_pair(3, 5, 3, True, torch.float32)
    assert [n for n, _ in scratch.named_parameters()] == [n for n, _ in reference.named_parameters()]
    for (_, a), (_, b) in zip(scratch.named_parameters(), reference.named_parameters()):
        assert a.shape == b.shape and torch.equal(a, b) and a.data_ptr() != b.data_ptr()


def test_unbatched_input_matches():
    reference, scratch = make_pair(4, 6, 2, False, torch.float64)
    x = torch.randn(9, 4, dtype=torch.float64)
    state = tuple(torch.randn(2, 6, dtype=torch.float64) for _ in range(2))
    for args in [(x,), (x, state)]:
        want_out, (want_h, want_c) = reference(*args)
        got_out, (got_h, got_c) = scratch(*args)
        for want, have in [(want_out, got_out), (want_h, got_h), (want_c, got_c)]:
            assert_close(have, want, 1e-12, "unbatched")


def test_without_bias_matches():
    torch.manual_seed(0)
    reference = nn.LSTM(3, 4, 2, bias=False, dtype=torch.float64)
    scratch = ScratchLSTM.from_torch(reference)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    assert_close(scratch(x)[0], reference(x)[0], 1e-12, "no bias")
    assert sum(p.numel() for p in scratch.parameters()) == lstm_parameter_count(3, 4, 2, bias=False)


def test_dropout_is_copied_and_eval_mode_matches():
    torch.manual_seed(0)
    reference = nn.LSTM(3, 4, 2, dropout=0.3, dtype=torch.float64).eval()
    scratch = ScratchLSTM.from_torch(reference)
    assert scratch.dropout == 0.3 and not scratch.training
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    assert_close(scratch(x)[0], reference(x)[0], 1e-12, "eval with dropout")
    scratch.train()
    torch.manual_seed(1)
    assert not torch.allclose(scratch(x)[0], reference(x)[0]), "dropout must act in training mode"


def test_to_torch_round_trip():
    reference, scratch = make_pair(3, 5, 2, True, torch.float64)
    back = scratch.to_torch()
    assert isinstance(back, nn.LSTM) and back.batch_first and back.num_layers == 2
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    assert torch.equal(back(x)[0], reference(x)[0])


def test_swapped_gates_do_not_match():
    """The comparison can fail: the same cell with the forget and input gate blocks swapped differs."""
    reference, scratch = make_pair(4, 6, 1, False, torch.float64)
    h = 6
    with torch.no_grad():
        for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            p = getattr(scratch, name)
            p.copy_(torch.cat([p[h:2 * h], p[:h], p[2 * h:]]))  # order f, i, g, o instead of i, f, g, o
    x = torch.randn(6, 3, 4, dtype=torch.float64)
    diff = (scratch(x)[0] - reference(x)[0]).abs().max().item()
    assert diff > 1e-3


def test_numpy_cell_equals_torch_cell_with_and_without_peephole():
    gen = np.random.default_rng(0)
    d, h, b = 5, 7, 3
    arrays = [gen.normal(size=s) for s in [(b, d), (b, h), (b, h), (4 * h, d), (4 * h, h), (4 * h,), (4 * h,)]]
    peephole = gen.normal(size=(3, h))
    for extra in ([], [peephole]):
        np_h, np_c, np_gates = lstm_cell_numpy(*arrays, *extra)
        t_h, t_c, t_gates = lstm_cell(*[torch.from_numpy(a) for a in arrays + extra])
        np.testing.assert_allclose(np_h, t_h.numpy(), rtol=0, atol=1e-13)
        np.testing.assert_allclose(np_c, t_c.numpy(), rtol=0, atol=1e-13)
        for a, t in zip(np_gates, t_gates):
            np.testing.assert_allclose(a, t.numpy(), rtol=0, atol=1e-13)


def test_numpy_cell_matches_nn_lstmcell():
    torch.manual_seed(3)
    cell = nn.LSTMCell(4, 6, dtype=torch.float64)
    x, h, c = (torch.randn(2, n, dtype=torch.float64) for n in (4, 6, 6))
    want_h, want_c = cell(x, (h, c))
    params = [p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    got_h, got_c, _ = lstm_cell_numpy(x.numpy(), h.numpy(), c.numpy(), *params)
    np.testing.assert_allclose(got_h, want_h.detach().numpy(), atol=1e-14, rtol=0)
    np.testing.assert_allclose(got_c, want_c.detach().numpy(), atol=1e-14, rtol=0)


def test_numpy_sigmoid_is_stable_and_exact():
    z = np.array([-800.0, -20.0, 0.0, 3.0, 800.0])
    np.testing.assert_allclose(numpy_sigmoid(z), torch.sigmoid(torch.from_numpy(z)).numpy(), rtol=1e-14, atol=1e-300)


def test_peephole_with_zero_weights_is_the_standard_lstm():
    torch.manual_seed(0)
    reference = nn.LSTM(3, 5, 2, dtype=torch.float64)
    peephole = ScratchLSTM(3, 5, 2, peephole=True, dtype=torch.float64)
    state = reference.state_dict()
    for layer in range(2):
        state[f"weight_peephole_l{layer}"] = torch.zeros(3, 5, dtype=torch.float64)
    peephole.load_state_dict(state)
    x = torch.randn(8, 2, 3, dtype=torch.float64)
    assert_close(peephole(x)[0], reference(x)[0], 1e-12, "zero peephole")
    with torch.no_grad():
        peephole.weight_peephole_l0[2].fill_(1.0)
    assert (peephole(x)[0] - reference(x)[0]).abs().max() > 1e-4


def test_peephole_gates_see_the_cell_state():
    """One step by hand: i and f see c_(t-1), o sees c_t."""
    gen = np.random.default_rng(1)
    h = 3
    x, h0, c0 = gen.normal(size=(1, 2)), gen.normal(size=(1, h)), gen.normal(size=(1, h))
    w_ih, w_hh, p = gen.normal(size=(4 * h, 2)), gen.normal(size=(4 * h, h)), gen.normal(size=(3, h))
    z = x @ w_ih.T + h0 @ w_hh.T
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, g = sig(z[:, :h] + p[0] * c0), sig(z[:, h:2 * h] + p[1] * c0), np.tanh(z[:, 2 * h:3 * h])
    c1 = f * c0 + i * g
    o = sig(z[:, 3 * h:] + p[2] * c1)
    got_h, got_c, _ = lstm_cell_numpy(x, h0, c0, w_ih, w_hh, peephole=p)
    np.testing.assert_allclose(got_c, c1, rtol=1e-12)
    np.testing.assert_allclose(got_h, o * np.tanh(c1), rtol=1e-12)


def test_peephole_model_trains_end_to_end():
    torch.manual_seed(0)
    model = ScratchLSTM(1, 4, peephole=True, batch_first=True, dtype=torch.float64)
    x = torch.randn(3, 5, 1, dtype=torch.float64)
    model(x)[0].sum().backward()
    assert model.weight_peephole_l0.grad is not None and model.weight_peephole_l0.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="no peephole"):
        model.to_torch()


@pytest.mark.parametrize("d, h, layers", [(1, 1, 1), (1, 64, 1), (8, 32, 2), (5, 16, 3), (20, 7, 4)])
def test_parameter_count_formula_matches_nn_lstm(d, h, layers):
    expected = sum(p.numel() for p in nn.LSTM(d, h, layers).parameters())
    assert lstm_parameter_count(d, h, layers) == expected
    assert sum(p.numel() for p in ScratchLSTM(d, h, layers).parameters()) == expected
    if layers == 1:
        assert expected == 4 * h * (d + h + 2)


def test_record_gates_matches_a_manual_run_and_the_model_outputs():
    reference, scratch = make_pair(2, 4, 2, True, torch.float64)
    x = torch.randn(3, 10, 2, dtype=torch.float64)
    record = record_gates(reference, x)
    assert len(record) == 2 and set(record[0]) == {"i", "f", "g", "o", "c", "h"}
    assert record[0]["f"].shape == (3, 10, 4)
    out, (h_n, c_n) = reference(x)
    np.testing.assert_allclose(record[1]["h"], out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(record[1]["c"][:, -1], c_n[1].detach().numpy(), atol=1e-12)
    for gate in ("i", "f", "o"):
        assert ((record[0][gate] > 0) & (record[0][gate] < 1)).all()
    # layer 0, step 0 by hand with the NumPy cell
    params = [getattr(reference, f"{n}_l0").detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    zeros = np.zeros((3, 4))
    h1, c1, gates = lstm_cell_numpy(x[:, 0].numpy(), zeros, zeros, *params)
    np.testing.assert_allclose(record[0]["f"][:, 0], gates.f, atol=1e-12)
    np.testing.assert_allclose(record[0]["c"][:, 0], c1, atol=1e-12)


def test_record_gates_rejects_other_models():
    with pytest.raises(TypeError, match="ScratchLSTM or an nn.LSTM"):
        record_gates(nn.GRU(2, 3), torch.zeros(4, 1, 2))


@pytest.mark.parametrize("build, message", [
    (lambda: ScratchLSTM.from_torch(nn.LSTM(2, 3, bidirectional=True)), "bidirectional"),
    (lambda: ScratchLSTM.from_torch(nn.LSTM(2, 3, proj_size=2)), "proj_size"),
    (lambda: ScratchLSTM(0, 3), "positive"),
    (lambda: ScratchLSTM(2, 3, dropout=1.0), "dropout"),
    (lambda: ScratchLSTM(2, 3)(torch.zeros(4, 1, 5)), "5 features"),
    (lambda: ScratchLSTM(2, 3)(torch.zeros(4)), "2-D"),
    (lambda: ScratchLSTM(2, 3, num_layers=2)(torch.zeros(4, 1, 2), (torch.zeros(1, 1, 3),) * 2), r"h_0 must have shape \(2, 1, 3\)"),
])
def test_bad_configurations_and_inputs_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_cell_path_gradient_matches_autograd():
    """With the gates held fixed, autograd's dc_T/dc_(T-k) through c_t = f_t c_(t-1) + i_t g_t is the forget product."""
    gen = torch.Generator().manual_seed(0)
    steps, hidden = 12, 3
    forget, update = torch.rand(steps, hidden, generator=gen, dtype=torch.float64), torch.randn(steps, hidden, generator=gen, dtype=torch.float64)
    states = [torch.randn(hidden, generator=gen, dtype=torch.float64, requires_grad=True)]
    for t in range(steps):
        states.append(forget[t] * states[-1] + update[t])
    for s in states[:-1]:
        s.retain_grad()
    states[-1].sum().backward()
    from course_lib.lstm_scratch import cell_path_gradient
    expected = np.stack([states[steps - k].grad.numpy() for k in range(1, steps + 1)])
    np.testing.assert_allclose(cell_path_gradient(forget.numpy()), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="2-D"):
        cell_path_gradient(np.ones(3))


def test_cell_path_gradient_of_several_sequences_is_each_sequences_own():
    from course_lib.lstm_scratch import cell_path_gradient
    forget = np.random.default_rng(0).uniform(0.1, 1.0, size=(3, 2, 9, 4))      # (..., time, hidden)
    batched = cell_path_gradient(forget)
    for index in np.ndindex(3, 2):
        np.testing.assert_array_equal(batched[index], cell_path_gradient(forget[index]))
    np.testing.assert_allclose(batched[1, 0, -1], forget[1, 0].prod(axis=0), rtol=1e-13)


def test_the_guides_stacked_forget_gate_equals_torchs_split_form():
    """f = sigmoid(W_f [h, x] + b_f) with W_f = [W_hf | W_if] and b_f = b_if + b_hf is torch's forget gate."""
    from course_lib.grading.ch01 import forget_gate_reference
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4, dtype=torch.float64)
    w_ih, w_hh, b_ih, b_hh = (p.detach().numpy() for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh))
    x, h, c = np.ones(3) * 0.3, np.linspace(-1, 1, 4), np.zeros(4)
    rows = slice(4, 8)  # the f block
    stacked = np.hstack([w_hh[rows], w_ih[rows]])
    expected = lstm_cell_numpy(x, h, c, w_ih, w_hh, b_ih, b_hh)[2].f
    np.testing.assert_allclose(forget_gate_reference(x, h, stacked, b_ih[rows] + b_hh[rows]), expected, rtol=1e-13)
