"""Chapter 05's checks: the references agree with PyTorch and the course's models, the reference and an independent
answer pass, and a bank of plausible wrong answers (one function per mistake a learner makes) fails, each shown the
hint written for it. The answers are written here in plain NumPy."""
import numpy as np
import pytest
import torch
from torch import nn

from check_bank import bank_tests
from course_lib import models
from course_lib.grading import ch05
from course_lib.training import fit


# ----------------------------------------------------------------------------- the references against torch
def test_attention_reference_matches_temporal_attention():
    torch.manual_seed(0)
    attention = models.TemporalAttention(6, "additive").double()
    outputs = torch.randn(3, 9, 6, dtype=torch.float64)
    with torch.no_grad():
        context, weights = attention(outputs)
    mine = ch05.additive_attention_reference(outputs.numpy(), attention.w.weight.detach().numpy(),
                                             attention.u.weight.detach().numpy(), attention.u.bias.detach().numpy(),
                                             attention.v.weight[0].detach().numpy())
    np.testing.assert_allclose(mine[0], context.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine[1], weights.numpy(), rtol=1e-12)


def test_lstm_parameter_reference_is_the_formula():
    def formula(d, h, layers, bidirectional):
        k = 2 if bidirectional else 1
        return k * 4 * h * (d + h + 2) + (layers - 1) * k * 4 * h * (k * h + h + 2)
    for args in [(1, 8, 1, False), (5, 16, 3, True), (3, 50, 2, True), (10, 4, 3, False)]:
        assert ch05.lstm_parameters_reference(*args) == formula(*args)


def test_multi_horizon_reference_matches_the_course_loss():
    rng = np.random.default_rng(0)
    p, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    w = [1.0, 0.2, 1 / 21]
    expected = models.multi_horizon_loss(torch.tensor(p), torch.tensor(y), w).item()
    assert ch05.multi_horizon_loss_reference(p, y, w) == pytest.approx(expected, rel=1e-12)


class Scripted(nn.Module):
    """A model whose validation loss follows a script: the loss function returns the next scripted value whenever
    gradients are off (fit's validation pass)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x[:, :1] * self.weight


@pytest.mark.parametrize("losses, patience", [([1.0, 0.8, 0.9, 0.85, 0.7, 0.6], 2), ([1.0, 0.8, 0.8, 0.9, 0.7], 2),
                                              ([1.0, 0.5, 0.6, 0.7], 5), ([0.5, 0.6, 0.7], 1),
                                              ([3.0, 2.0, 2.5, 2.6, 2.7, 2.8, 1.9], None)])
def test_early_stopping_reference_agrees_with_fit(losses, patience):
    script = iter(losses)

    def loss_fn(prediction, target):
        if torch.is_grad_enabled():
            return ((prediction - target) ** 2).mean()
        return torch.tensor(next(script))

    data = torch.utils.data.TensorDataset(torch.ones(4, 1), torch.ones(4, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=4)
    history = fit(Scripted(), loader, loader, epochs=len(losses), patience=patience, loss_fn=loss_fn)
    assert ch05.early_stopping_reference(losses, patience, 0.0) == (len(history.val_loss), history.best_epoch)


def test_cosine_reference_is_the_closed_form():
    rates = ch05.cosine_learning_rates_reference(0.01, 0.001, 10)
    np.testing.assert_allclose(rates, [0.001 + 0.0045 * (1 + np.cos(np.pi * e / 10)) for e in range(10)], rtol=1e-12)


def test_probe_cases_leak_where_their_names_say():
    expected = [[], [20, 60, 100, 140], [30, 90, 150], [], [40, 80, 120], [30, 70]]
    cases = ch05._probe_cases()
    assert [ch05.leaky_origins_reference(*case.args) for case in cases] == expected


def test_probe_cases_survive_the_pickling_the_grader_does():
    """The sandbox has no course_lib.grading.chNN: the pipelines must come from a module it has."""
    import pickle
    for case in ch05._probe_cases():
        pipeline = case.args[0]
        assert pipeline.func.__module__ == "course_lib.evaluation.diagnostics"
        assert pickle.loads(pickle.dumps(case.args))[0].func is pipeline.func


# ----------------------------------------------------------------------------- 05.1 additive attention
def _softmax(s, axis=1):
    s = s - s.max(axis=axis, keepdims=True)
    return np.exp(s) / np.exp(s).sum(axis=axis, keepdims=True)


def att_right(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_first_query(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, 0] @ U.T + b)[:, None, :]) @ v
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_mean_query(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs.mean(axis=1) @ U.T + b)[:, None, :]) @ v
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_softmax_over_batch(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v
    weights = _softmax(scores, axis=0)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_no_tanh(outputs, W, U, b, v):
    scores = (outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_no_bias(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, -1] @ U.T)[:, None, :]) @ v
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_unstable(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    return np.einsum("bt,btd->bd", weights, outputs), weights


def att_scores_not_weights(outputs, W, U, b, v):
    scores = np.tanh(outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v
    return np.einsum("bt,btd->bd", _softmax(scores), outputs), scores


def att_context_of_inputs_mean(outputs, W, U, b, v):
    weights = att_right(outputs, W, U, b, v)[1]
    return outputs.mean(axis=1), weights


def att_tanh_outside_v(outputs, W, U, b, v):
    scores = np.tanh((outputs @ W.T + (outputs[:, -1] @ U.T + b)[:, None, :]) @ v)
    weights = _softmax(scores)
    return np.einsum("bt,btd->bd", weights, outputs), weights


# ----------------------------------------------------------------------------- 05.2 LSTM parameters
def par_right(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return sum(k * 4 * h * ((d if n == 0 else k * h) + h + 2) for n in range(layers))


def par_one_bias(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return sum(k * 4 * h * ((d if n == 0 else k * h) + h + 1) for n in range(layers))


def par_three_gates(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return sum(k * 3 * h * ((d if n == 0 else k * h) + h + 2) for n in range(layers))


def par_every_layer_reads_input(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return layers * k * 4 * h * (d + h + 2)


def par_upper_reads_h(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return sum(k * 4 * h * ((d if n == 0 else h) + h + 2) for n in range(layers))


def par_direction_ignored(d, h, layers, bidirectional):
    return sum(4 * h * ((d if n == 0 else h) + h + 2) for n in range(layers))


def par_float(d, h, layers, bidirectional):
    return float(par_right(d, h, layers, bidirectional))


def par_with_head(d, h, layers, bidirectional):
    k = 2 if bidirectional else 1
    return par_right(d, h, layers, bidirectional) + k * h + 1


# ----------------------------------------------------------------------------- 05.3 multi-horizon loss
def _check_shapes(p, y):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    if p.shape != y.shape:
        raise ValueError("shapes differ")
    return p, y


def _weights(w, k):
    return np.ones(k) if w is None else np.asarray(w, dtype=float)


def mh_right(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float(w @ ((p - y) ** 2).mean(axis=0) / w.sum())


def mh_divide_by_k(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float(w @ ((p - y) ** 2).mean(axis=0) / len(w))


def mh_no_normalization(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float(w @ ((p - y) ** 2).mean(axis=0))


def mh_rmse(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float(w @ np.sqrt(((p - y) ** 2).mean(axis=0)) / w.sum())


def mh_mae(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float(w @ np.abs(p - y).mean(axis=0) / w.sum())


def mh_weights_on_rows(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float((w[:, None] * (p - y) ** 2).mean() * len(w) / w.sum()) if len(w) == len(p) else mh_right(p, y, w)


def mh_weight_before_square(p, y, w):
    p, y = _check_shapes(p, y)
    w = _weights(w, p.shape[1])
    return float((((p - y) * w) ** 2).mean(axis=0).sum() / w.sum())


def mh_none_means_zero(p, y, w):
    p, y = _check_shapes(p, y)
    if w is None:
        return 0.0
    return mh_right(p, y, w)


def mh_no_shape_check(p, y, w):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    w = _weights(w, p.shape[1])
    return float(w @ ((p[:, :y.shape[1]] - y) ** 2).mean(axis=0)[:len(w)] / w.sum()) if p.shape == y.shape else 0.0


# ----------------------------------------------------------------------------- 05.4 early stopping
def es_right(losses, patience, min_delta):
    best, best_epoch, waited = np.inf, None, 0
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return epoch + 1, best_epoch
    return len(losses), best_epoch


def _stopping(improves, stop, restore_last=False, one_based=False, restore_only_on_stop=False, update_best=False):
    def answer(losses, patience, min_delta):
        best, best_epoch, waited = np.inf, None, 0
        for epoch, loss in enumerate(losses):
            if improves(loss, best, min_delta):
                best, best_epoch, waited = loss, epoch, 0
            else:
                if update_best and loss < best:
                    best = loss
                waited += 1
                if patience is not None and stop(waited, patience):
                    return epoch + 1, (epoch if restore_last else best_epoch) + one_based
        last = len(losses) - 1 if restore_last or restore_only_on_stop else best_epoch
        return len(losses), last + one_based
    return answer


strict = lambda loss, best, delta: loss < best - delta          # noqa: E731
es_tie_improves = _stopping(lambda loss, best, delta: loss <= best - delta, lambda w, p: w >= p)
es_waits_one_more = _stopping(strict, lambda w, p: w > p)
es_restores_last = _stopping(strict, lambda w, p: w >= p, restore_last=True)
es_guide_restore = _stopping(strict, lambda w, p: w >= p, restore_only_on_stop=True)
es_one_based = _stopping(strict, lambda w, p: w >= p, one_based=True)
es_min_delta_ignored = _stopping(lambda loss, best, delta: loss < best, lambda w, p: w >= p)
es_min_delta_wrong_side = _stopping(lambda loss, best, delta: loss < best + delta, lambda w, p: w >= p)
es_best_tracks_every_drop = _stopping(strict, lambda w, p: w >= p, update_best=True)


def es_epochs_as_index(losses, patience, min_delta):
    epochs, best = es_right(losses, patience, min_delta)
    return epochs - 1, best


def es_none_crashes_as_zero(losses, patience, min_delta):
    return es_right(losses, 0 if patience is None else patience, min_delta)


# ----------------------------------------------------------------------------- 05.5 causality probe
def _probe(rewrite, compare_all=False, inverted=False, positions=False, tolerance=True):
    def answer(pipeline, series, origins):
        rng = np.random.default_rng(1)
        before = np.asarray(pipeline(series, origins), dtype=float)
        found = []
        for k, t in enumerate(origins):
            changed = series.copy()
            rewrite(changed, t, rng)
            after = np.asarray(pipeline(changed, origins), dtype=float)
            moved = ~np.isclose(after, before, rtol=1e-9, atol=1e-12) if tolerance else after != before
            leaked = moved.any() if compare_all else moved[k]
            if leaked != inverted:
                found.append(k if positions else t)
        return found
    return answer


def _noise_after(series, t, rng):
    series[t + 1:] = rng.normal(series.mean(), series.std(), size=len(series) - t - 1)


def _noise_from(series, t, rng):
    series[t:] = rng.normal(series.mean(), series.std(), size=len(series) - t)


def _noise_next_only(series, t, rng):
    series[t + 1] = rng.normal(series.mean(), series.std())


def _noise_before(series, t, rng):
    series[:t] = rng.normal(series.mean(), series.std(), size=t)


def _copy_only(series, t, rng):
    series[t + 1:] = series[t + 1:].copy()


probe_right = _probe(_noise_after)
probe_from_origin = _probe(_noise_from)
probe_next_row_only = _probe(_noise_next_only)
probe_compares_all = _probe(_noise_after, compare_all=True)
probe_inverted = _probe(_noise_after, inverted=True)
probe_positions = _probe(_noise_after, positions=True)
probe_rewrites_past = _probe(_noise_before)
probe_rewrites_nothing = _probe(_copy_only)


def probe_array(pipeline, series, origins):
    return np.array(probe_right(pipeline, series, origins), dtype=int)


# ----------------------------------------------------------------------------- 05.6 cosine schedule
def cos_right(lr, min_lr, epochs):
    return [min_lr + (lr - min_lr) * (1 + np.cos(np.pi * e / epochs)) / 2 for e in range(epochs)]


def cos_minus_one(lr, min_lr, epochs):
    return [min_lr + (lr - min_lr) * (1 + np.cos(np.pi * e / max(epochs - 1, 1))) / 2 for e in range(epochs)]


def cos_from_one(lr, min_lr, epochs):
    return [min_lr + (lr - min_lr) * (1 + np.cos(np.pi * e / epochs)) / 2 for e in range(1, epochs + 1)]


def cos_no_floor(lr, min_lr, epochs):
    return [lr * (1 + np.cos(np.pi * e / epochs)) / 2 for e in range(epochs)]


def cos_no_half(lr, min_lr, epochs):
    return [min_lr + (lr - min_lr) * (1 + np.cos(np.pi * e / epochs)) for e in range(epochs)]


def cos_one_too_many(lr, min_lr, epochs):
    return [min_lr + (lr - min_lr) * (1 + np.cos(np.pi * e / epochs)) / 2 for e in range(epochs + 1)]


def cos_array(lr, min_lr, epochs):
    return np.array(cos_right(lr, min_lr, epochs))


RIGHT = {"05.1": att_right, "05.2": par_right, "05.3": mh_right, "05.4": es_right, "05.5": probe_right,
         "05.6": cos_right}

MISTAKES = {
    "05.1": [("the first step as the query", att_first_query, "The query is the last step"),
             ("the mean of the steps as the query", att_mean_query, "The query is the last step"),
             ("softmax over the batch", att_softmax_over_batch, "Softmax over the steps of each window"),
             ("no tanh", att_no_tanh, "the tanh comes before v"),
             ("tanh after v", att_tanh_outside_v, "the tanh comes before v"),
             ("no bias", att_no_bias, "b is added once"),
             ("softmax without subtracting the maximum", att_unstable, "subtract each row's largest score"),
             ("scores returned instead of weights", att_scores_not_weights, "softmax over the 3 steps"),
             ("context as the plain mean", att_context_of_inputs_mean, "softmax over the 3 steps")],
    "05.2": [("one bias per gate", par_one_bias, "TWO bias vectors per gate"),
             ("three gates", par_three_gates, "4 gates"),
             ("every layer reads the input", par_every_layer_reads_input, "Layer 2 reads the h outputs of layer 1"),
             ("the layer above a bidirectional one reads h", par_upper_reads_h, "BOTH directions: 2h inputs"),
             ("bidirectional ignored", par_direction_ignored, "two LSTMs (forward and backward)"),
             ("the linear head counted too", par_with_head, "4h(d + h + 2)")],
    "05.3": [("divided by the number of horizons", mh_divide_by_k, "divide by the sum of the weights"),
             ("weighted sum, not normalized", mh_no_normalization, "divide by the sum of the weights"),
             ("RMSE per horizon", mh_rmse, "MSE, not RMSE or MAE"),
             ("MAE per horizon", mh_mae, "MSE, not RMSE or MAE"),
             ("weights on the rows", mh_weights_on_rows, "weight k multiplies column k"),
             ("weights squared with the errors", mh_weight_before_square, "divide by the sum of the weights"),
             ("weights=None gives 0", mh_none_means_zero, "weights=None means equal weights"),
             ("no shape check", mh_no_shape_check, "raise ValueError otherwise")],
    "05.4": [("a tie counts as an improvement", es_tie_improves, "A tie (0.8 again) counts as no improvement"),
             ("waits one epoch more than patience", es_waits_one_more, "when it REACHES patience"),
             ("restores the last epoch", es_restores_last, "the weights of the best epoch (index 1) are restored"),
             ("restores only when patience runs out (the guide)", es_guide_restore, "the best weights are still restored"),
             ("1-based epochs", es_one_based, "numbered from 0 like the list"),
             ("min_delta ignored", es_min_delta_ignored, "loss < best - min_delta"),
             ("min_delta on the wrong side", es_min_delta_wrong_side, "loss < best - min_delta"),
             ("best updated on every drop", es_best_tracks_every_drop, "`best` changes only on an improvement"),
             ("epochs run counted from 0", es_epochs_as_index, "stops training when it REACHES patience"),
             ("patience None treated as 0", es_none_crashes_as_zero, "patience=None means no early stop")],
    "05.5": [("rewrites from the origin itself", probe_from_origin, "Rewrite only the rows AFTER the origin"),
             ("rewrites only the next row", probe_next_row_only, "Rewrite EVERY row after the origin"),
             ("flags any forecast that moved", probe_compares_all, "compare only the forecast FOR that origin"),
             ("returns the causal origins", probe_inverted, "return those origins"),
             ("returns positions in the list", probe_positions, "Return the origins themselves"),
             ("rewrites the past", probe_rewrites_past, "Rewrite only the rows AFTER the origin"),
             ("rewrites nothing", probe_rewrites_nothing, "return those origins"),
             ("a NumPy array", probe_array, "return those origins")],
    "05.6": [("cos(pi e / (E - 1))", cos_minus_one, "never reaches min_lr inside the E epochs"),
             ("epochs counted from 1", cos_from_one, "the first epoch uses lr"),
             ("no floor", cos_no_floor, "between lr and min_lr"),
             ("no factor 1/2", cos_no_half, "the first epoch uses lr"),
             ("one rate too many", cos_one_too_many, "the first epoch uses lr"),
             ("a NumPy array", cos_array, "the first epoch uses lr")],
}


# ----------------------------------------------------------------------------- mistakes found in review
def mh_broadcasts(p, y, w):
    p, y = np.asarray(p, dtype=float), np.asarray(y, dtype=float)
    w = _weights(w, y.shape[1])
    return float(w @ ((p - y) ** 2).mean(axis=0) / w.sum())


def es_relative_min_delta(losses, patience, min_delta):
    best, best_epoch, waited = np.inf, None, 0
    for epoch, loss in enumerate(losses):
        if loss < best * (1 - min_delta):
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return epoch + 1, best_epoch
    return len(losses), best_epoch


def es_never_resets(losses, patience, min_delta):
    best, best_epoch, waited = np.inf, None, 0
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch = loss, epoch
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return epoch + 1, best_epoch
    return len(losses), best_epoch


MISTAKES["05.3"] += [("no shape check: NumPy broadcasts (1, 3) against (4, 3)", mh_broadcasts,
                      "compare the shapes yourself")]
MISTAKES["05.4"] += [("min_delta taken as relative", es_relative_min_delta, "min_delta in the loss's units"),
                     ("the wait counter never reset", es_never_resets, "resets the wait counter to 0")]

(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=9, right=RIGHT, mistakes=MISTAKES)
