"""Chapter 01, section 5: how far back a gradient reaches in a plain RNN and in an LSTM.

Two kinds of checks. (1) ``course_lib.lstm_scratch.gradient_reach`` (many seeded models run at once)
equals autograd through ``nn.RNN`` / ``nn.LSTM`` / ``nn.LSTMCell``, seed by seed. (2) The lesson's
claims, re-derived with independent code (torch modules only, other seeds than the lesson's): robust
summaries over many seeds (median of log10, per-seed decay rates) with tolerances that the old
"arithmetic mean over 10 seeds on 101-step sequences" measurement would not survive.
"""
import numpy as np
import pytest
import torch
from torch import nn

from course_lib.lstm_scratch import gradient_reach, lstm_cell, rnn_cell, stack_seed_models

HIDDEN, K_MAX = 32, 100
STEPS = K_MAX + 50               # k = 100 stays 50 steps away from the zero initial state
SEEDS = range(1000, 1160)        # 160 seeds, none of them the lesson's 0..299
F64 = torch.float64


def lstm_with_forget_bias(value, hidden=HIDDEN):
    def make():
        model = nn.LSTM(1, hidden, dtype=F64)
        with torch.no_grad():
            model.bias_ih_l0[hidden:2 * hidden].fill_(value)
            model.bias_hh_l0[hidden:2 * hidden].zero_()
        return model
    return make


MAKERS = {"RNN": lambda: nn.RNN(1, HIDDEN, dtype=F64), "LSTM0": lstm_with_forget_bias(0.0),
          "LSTM1": lstm_with_forget_bias(1.0), "LSTM3": lstm_with_forget_bias(3.0)}


@pytest.fixture
def one_thread():
    """Tiny per-step operations: one thread is faster and immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_input_gradients(make, seeds, steps):
    """|d sum(h_T) / d x_(T-k)| by autograd through the torch module itself: (seed, k)."""
    rows = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = make()
        x = torch.randn(steps, 1, 1, dtype=F64, generator=torch.Generator().manual_seed(seed))
        x.requires_grad_(True)
        out, _ = model(x)
        out[-1].sum().backward()
        rows.append(x.grad[:, 0, 0].abs().flip(0).numpy())
    return np.array(rows)


def slopes(log10_values, first=10, last=K_MAX):
    """Per-seed least-squares slope of log10(gradient) on k: orders of magnitude per step."""
    k = np.arange(first, last + 1)
    return np.polyfit(k, log10_values[:, first:last + 1].T, 1)[0]


# --------------------------------------------------------------------------- library == torch, seed by seed
def test_stack_seed_models_holds_each_seeded_models_parameters():
    weight_ih, weight_hh, bias_ih, bias_hh = stack_seed_models(lstm_with_forget_bias(3.0, hidden=5), [7, 8, 9])
    assert weight_ih.shape == (3, 20, 1) and weight_hh.shape == (3, 20, 5) and bias_ih.shape == (3, 1, 20)
    for row, seed in enumerate([7, 8, 9]):
        torch.manual_seed(seed)
        model = lstm_with_forget_bias(3.0, hidden=5)()
        assert torch.equal(weight_hh[row], model.weight_hh_l0) and torch.equal(bias_ih[row, 0], model.bias_ih_l0)
    assert (bias_ih[:, 0, 5:10] == 3.0).all() and (bias_hh[:, 0, 5:10] == 0.0).all()


@pytest.mark.parametrize("build, message", [
    (lambda: stack_seed_models(lambda: nn.LSTM(1, 3), []), "seeds is empty"),
    (lambda: stack_seed_models(lambda: nn.LSTM(1, 3, bias=False), [0]), "lacks"),
    (lambda: stack_seed_models(lambda: nn.Linear(2, 3), [0]), "lacks"),
    (lambda: gradient_reach(stack_seed_models(lambda: nn.LSTM(1, 3), [0, 1]), torch.zeros(3, 5, 1)), r"\(2, T, 1\)"),
    (lambda: gradient_reach(stack_seed_models(lambda: nn.LSTM(2, 3), [0]), torch.zeros(1, 5, 1)), r"\(1, T, 2\)"),
    (lambda: gradient_reach(stack_seed_models(lambda: nn.GRU(1, 3), [0]), torch.zeros(1, 5, 1)), "expected 3"),
])
def test_bad_inputs_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_batched_cells_equal_torch_cells_per_seed():
    """One model per seed through the library's rnn_cell / lstm_cell equals nn.RNNCell / nn.LSTMCell."""
    seeds = [0, 1, 2]
    x, h, c = (torch.randn(3, 4, n, dtype=F64) for n in (2, 5, 5))       # (seed, batch, features)
    rnn = stack_seed_models(lambda: nn.RNN(2, 5, dtype=F64), seeds)
    lstm = stack_seed_models(lambda: nn.LSTM(2, 5, dtype=F64), seeds)
    h_rnn, (h_lstm, c_lstm, _) = rnn_cell(x, h, *rnn), lstm_cell(x, h, c, *lstm)
    for row, seed in enumerate(seeds):
        torch.manual_seed(seed)
        r = nn.RNN(2, 5, dtype=F64)
        cell = nn.RNNCell(2, 5, dtype=F64)
        cell.load_state_dict({k[:-3]: v for k, v in r.state_dict().items()})
        torch.testing.assert_close(h_rnn[row], cell(x[row], h[row]), rtol=0, atol=1e-14)
        torch.manual_seed(seed)
        m = nn.LSTM(2, 5, dtype=F64)
        cell = nn.LSTMCell(2, 5, dtype=F64)
        cell.load_state_dict({k[:-3]: v for k, v in m.state_dict().items()})
        want_h, want_c = cell(x[row], (h[row], c[row]))
        torch.testing.assert_close(h_lstm[row], want_h, rtol=0, atol=1e-14)
        torch.testing.assert_close(c_lstm[row], want_c, rtol=0, atol=1e-14)


@pytest.mark.parametrize("kind", ["RNN", "LSTM0", "LSTM3"])
def test_input_gradients_equal_autograd_through_the_torch_module(kind):
    seeds, steps = range(4), 40
    x = torch.stack([torch.randn(steps, 1, dtype=F64, generator=torch.Generator().manual_seed(s)) for s in seeds])
    got = gradient_reach(stack_seed_models(MAKERS[kind], seeds), x)["x"]
    want = torch_input_gradients(MAKERS[kind], seeds, steps)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=0)


def test_cell_state_gradients_and_the_cell_road_equal_independent_computations():
    """"c": dL/dc_(T-k) by re-running nn.LSTM over the last k steps from c_(T-k) as the leaf (and
    h_(T-k) = o_(T-k) tanh(c_(T-k)) built from it); "f": the forget gates computed by hand from
    nn.LSTM's weights; "cell_road": dL/dc_T times their product over the last k steps."""
    seeds, steps, hidden = [3, 4], 25, 6
    make = lstm_with_forget_bias(1.0, hidden)
    x = torch.randn(len(seeds), steps, 1, dtype=F64, generator=torch.Generator().manual_seed(0))
    got = gradient_reach(stack_seed_models(make, seeds), x)
    for row, seed in enumerate(seeds):
        torch.manual_seed(seed)
        model = make()
        xs = x[row][:, None, :]                                         # (time, batch 1, 1)
        with torch.no_grad():
            out, _ = model(xs)                                          # h after every step
            cells = [model(xs[:t + 1])[1][1] for t in range(steps)]     # c after step t, (1, 1, h)
            h_before = torch.cat([torch.zeros(1, hidden, dtype=F64), out[:-1, 0]])
            z = xs[:, 0] @ model.weight_ih_l0.T + model.bias_ih_l0 + h_before @ model.weight_hh_l0.T + model.bias_hh_l0
        forget = torch.sigmoid(z[:, hidden:2 * hidden])                # f_1..f_T, (time, h)
        np.testing.assert_allclose(got["f"][row], forget.numpy(), rtol=1e-12)
        grad_c_last = torch.sigmoid(z[-1, 3 * hidden:]) * (1 - torch.tanh(cells[-1][0, 0]) ** 2)  # o_T tanh'(c_T)
        for k in (0, 1, 7, steps - 1):
            if k == 0:
                want = grad_c_last
            else:
                t = steps - 1 - k                                       # position of c_(T-k)
                c0 = cells[t].clone().requires_grad_(True)
                h0 = torch.sigmoid(z[t, 3 * hidden:]) * torch.tanh(c0)  # h_(T-k) = o tanh(c): c's road into h counts
                suffix, _ = model(xs[t + 1:], (h0, c0))
                suffix[-1].sum().backward()
                want = c0.grad[0, 0]
            np.testing.assert_allclose(got["c"][row, k], want.norm().item(), rtol=1e-9)
            road = grad_c_last * forget[steps - k:].prod(dim=0)
            np.testing.assert_allclose(got["cell_road"][row, k], road.norm().item(), rtol=1e-9)


# --------------------------------------------------------------------------- the lesson's claims, independently
@pytest.fixture(scope="module")
def torch_reach():
    """log10 input gradients of 160 torch modules per kind (seeds 1000..1159), plus 101-step runs at bias 3."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = {name: np.log10(torch_input_gradients(make, SEEDS, STEPS)[:, :K_MAX + 1])
                  for name, make in MAKERS.items()}
        result["LSTM3, 101 steps"] = np.log10(torch_input_gradients(MAKERS["LSTM3"], SEEDS, K_MAX + 1))
        result["raw RNN"] = 10.0 ** result["RNN"]
        result["raw LSTM0"] = 10.0 ** result["LSTM0"]
    finally:
        torch.set_num_threads(threads)
    return result


@pytest.mark.parametrize("name, low, high", [
    ("RNN", -0.255, -0.215),      # lesson: median -0.235, factor 0.58 per step
    ("LSTM0", -0.213, -0.193),    # lesson: -0.203, factor 0.63
    ("LSTM1", -0.080, -0.060),    # lesson: -0.070, factor 0.85
    ("LSTM3", -0.012, 0.002),     # lesson: -0.005, factor 0.99
])
def test_median_decay_rate_per_step(torch_reach, name, low, high):
    rate = np.median(slopes(torch_reach[name]))
    assert low < rate < high, f"{name}: median decay rate {rate:.4f} per step outside ({low}, {high})"


def test_median_ordering_holds_at_every_k(torch_reach):
    median = {name: np.median(v, axis=0) for name, v in torch_reach.items() if not name.startswith("raw")}
    k = np.arange(K_MAX + 1)
    # a larger forget bias keeps more gradient once the first few steps are past
    assert (median["LSTM3"][5:] > median["LSTM1"][5:]).all() and (median["LSTM1"][5:] > median["LSTM0"][5:]).all()
    # the default LSTM starts below the RNN, decays more slowly and passes it near k = 16 for good
    assert (median["RNN"][k <= 10] > median["LSTM0"][k <= 10]).all()
    assert (median["LSTM0"][k >= 25] > median["RNN"][k >= 25]).all()
    cross = int(np.argmax(median["LSTM0"] > median["RNN"]))
    assert 11 <= cross <= 22, cross
    gap = median["LSTM0"][K_MAX] - median["RNN"][K_MAX]
    assert 1.5 < gap < 4.0, f"default LSTM vs RNN at k = 100: {gap:.2f} orders of magnitude (lesson: 2.6)"
    bias_gain = median["LSTM1"][K_MAX] - median["LSTM0"][K_MAX]
    assert 11.5 < bias_gain < 14.5, f"bias 1 vs bias 0 at k = 100: {bias_gain:.2f} (lesson: about 13)"
    lost = median["LSTM3"][0] - median["LSTM3"][K_MAX]
    assert 0.5 < lost < 1.5, f"bias 3 loses {lost:.2f} orders of magnitude over 100 steps (lesson: about one)"


def test_ten_seed_means_are_unreliable(torch_reach):
    """The old measurement: the arithmetic mean over 10 seeds. At k = 100 its RNN-vs-LSTM order depends on
    which ten seeds are drawn, although the medians over all seeds are clearly ordered."""
    rnn = torch_reach["raw RNN"][:, K_MAX].reshape(-1, 10).mean(axis=1)
    lstm = torch_reach["raw LSTM0"][:, K_MAX].reshape(-1, 10).mean(axis=1)
    rnn_ahead = int((rnn > lstm).sum())
    assert 2 <= rnn_ahead <= len(rnn) - 2, f"10-seed means put the RNN ahead in {rnn_ahead} of {len(rnn)} groups"
    assert np.ptp(np.log10(rnn)) > 3, "ten-seed means of the RNN should spread over orders of magnitude"


def test_the_first_step_is_special(torch_reach):
    """On 101-step sequences k = 100 is the first step, after a zero state: the bias-3 gradient there rises
    above its value at k = 50. On 150-step sequences it keeps falling."""
    short, long = torch_reach["LSTM3, 101 steps"], torch_reach["LSTM3"]
    assert np.median(short[:, 100]) > np.median(short[:, 50]) + 0.2
    assert np.median(long[:, 100]) < np.median(long[:, 50]) - 0.1


def test_rnn_decay_follows_the_spectral_radius_of_w_hh(one_thread):
    seeds = range(1000, 1100)
    w_hh = stack_seed_models(MAKERS["RNN"], seeds)[1]
    radius = torch.linalg.eigvals(w_hh).abs().amax(dim=-1).numpy()
    assert 0.57 < np.median(radius) < 0.65          # entries U(-1/sqrt(h), 1/sqrt(h)): disc of radius ~ 1/sqrt(3)
    rates = slopes(np.log10(torch_input_gradients(MAKERS["RNN"], seeds, STEPS)))
    assert np.corrcoef(np.log10(radius), rates)[0, 1] > 0.9


def test_the_hidden_road_explains_the_gap_to_the_forget_gate_product(one_thread):
    """With nn.LSTMCell step by step (no course_lib): at forget bias 0 the gradient at c_(T-k) decays at
    about -0.20 orders of magnitude per step, the forget-gate product alone at about -0.29 (0.5 per step),
    and the near-zero-state Jacobian 0.5 I + 0.25 W_hg predicts the measured factor."""
    seeds, hidden = range(1000, 1060), HIDDEN
    all_roads, cell_road, radius = [], [], []
    for seed in seeds:
        torch.manual_seed(seed)
        lstm = lstm_with_forget_bias(0.0)()
        cell = nn.LSTMCell(1, hidden, dtype=F64)
        cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
        x = torch.randn(STEPS, 1, 1, dtype=F64, generator=torch.Generator().manual_seed(seed))
        h = c = torch.zeros(1, hidden, dtype=F64)
        cells, forgets = [], []
        for t in range(STEPS):
            z = x[t] @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
            forgets.append(torch.sigmoid(z[0, hidden:2 * hidden]).detach())
            h, c = cell(x[t], (h, c))
            c.retain_grad()
            cells.append(c)
        h.sum().backward()
        grads = torch.stack([s.grad[0] for s in cells[::-1]])           # row k: dL/dc_(T-k)
        forget = torch.stack(forgets[::-1])                             # row 0: f_T
        products = torch.cat([torch.ones(1, hidden, dtype=F64), torch.cumprod(forget, dim=0)[:-1]])
        all_roads.append(grads.norm(dim=1)[:K_MAX + 1].log10().numpy())
        cell_road.append((grads[0] * products).norm(dim=1)[:K_MAX + 1].log10().numpy())
        w_hg = cell.weight_hh.detach()[2 * hidden:3 * hidden]
        near_zero = 0.5 * torch.eye(hidden, dtype=F64) + 0.25 * w_hg
        radius.append(torch.linalg.eigvals(near_zero).abs().max().item())
    all_rate, road_rate = np.median(slopes(np.array(all_roads))), np.median(slopes(np.array(cell_road)))
    assert -0.215 < all_rate < -0.19, all_rate                       # lesson: -0.203
    assert -0.30 < road_rate < -0.28, road_rate                      # lesson: -0.289; log10(0.5) = -0.301
    gap = np.median(np.array(all_roads)[:, K_MAX] - np.array(cell_road)[:, K_MAX])
    assert 7.5 < gap < 9.5, f"all roads vs the cell road at k = 100: {gap:.2f} orders (lesson: 8.4)"
    assert abs(np.log10(np.median(radius)) - all_rate) < 0.015        # lesson: -0.198 vs -0.203
    # the plain forget-gate story (0.5 per step) is off by about ten orders of magnitude over 100 steps
    assert 8.5 < 100 * (all_rate - np.log10(0.5)) < 11.5
