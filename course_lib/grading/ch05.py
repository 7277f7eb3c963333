"""Chapter 05 exercises: additive attention pooling, the parameter count of a stacked bidirectional LSTM, the
multi-horizon loss, early stopping's stop and restore, a causality probe, the cosine learning-rate schedule."""
from __future__ import annotations

from functools import partial

import numpy as np
import torch

from course_lib import data, models
from course_lib.evaluation.diagnostics import lookahead_origins, window_mean_forecast, zscore_forecast
from course_lib.grading.registry import Case, Exercise


# ----------------------------------------------------------------------------- references
def additive_attention_reference(outputs, w, u, b, v):
    """s[n, t] = v . tanh(W h[n, t] + U q[n] + b), q[n] = h[n, T-1]; a = softmax over t; context = sum_t a h."""
    outputs = np.asarray(outputs, dtype=float)
    query = outputs[:, -1]                                               # (batch, d)
    scores = np.tanh(outputs @ np.asarray(w).T + (query @ np.asarray(u).T + b)[:, None]) @ np.asarray(v)
    scores = scores - scores.max(axis=1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)   # (batch, T)
    return (weights[:, :, None] * outputs).sum(axis=1), weights


def lstm_parameters_reference(input_size, hidden_size, num_layers, bidirectional):
    lstm = torch.nn.LSTM(input_size, hidden_size, num_layers, bidirectional=bidirectional)
    return int(sum(p.numel() for p in lstm.parameters()))


def multi_horizon_loss_reference(prediction, target, weights):
    prediction, target = np.asarray(prediction, dtype=float), np.asarray(target, dtype=float)
    if prediction.shape != target.shape or prediction.ndim != 2:
        raise ValueError(f"prediction and target must both be (batch, horizons), got {prediction.shape} and "
                         f"{target.shape}")
    weights = np.ones(prediction.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    per_horizon = ((prediction - target) ** 2).mean(axis=0)
    return float((weights * per_horizon).sum() / weights.sum())


def early_stopping_reference(val_losses, patience, min_delta):
    """Epochs run and the 0-based epoch whose weights are restored (improvement: loss < best - min_delta)."""
    best, best_epoch, waited = np.inf, None, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if patience is not None and waited >= patience:
                return epoch + 1, best_epoch
    return len(val_losses), best_epoch


def leaky_origins_reference(pipeline, series, origins):
    return lookahead_origins(lambda values: pipeline(values, origins), series, origins)


def cosine_learning_rates_reference(lr, min_lr, epochs):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=min_lr)
    rates = []
    for _ in range(epochs):
        rates.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.step()
        schedule.step()
    return rates


# ----------------------------------------------------------------------------- 05.1 additive attention
def _attention_inputs(rng, batch, steps, d, a, scale=1.0):
    return (rng.normal(size=(batch, steps, d)), rng.normal(size=(a, d)) * scale, rng.normal(size=(a, d)) * scale,
            rng.normal(size=a), rng.normal(size=a) * scale)


def _attention_cases():
    rng = np.random.default_rng(5)
    hand = (np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]]), np.eye(2), np.eye(2), np.zeros(2), np.array([1.0, -1.0]))
    last_differs = _attention_inputs(rng, 2, 6, 3, 3)
    last_differs[0][:, 0] *= 5.0                                          # the first step is far from the last
    big = _attention_inputs(rng, 2, 5, 3, 4)
    big = big[:4] + (np.array([900.0, -800.0, 700.0, 600.0]),)            # scores of hundreds: exp overflows
    square = _attention_inputs(rng, 3, 4, 3, 3)                           # batch = steps - 1 = d
    return [
        Case("by hand: 3 steps, d = 2, W = U = I, b = 0, v = (1, -1)", hand,
             hint="q = h_3 = (1, 1): s_t = tanh(h_t + q) . (1, -1) = 0.203, -0.203, 0; softmax over the 3 steps."),
        Case("2 windows, 6 steps: the query is the LAST step", last_differs,
             hint="The query is the last step of each window, q = outputs[:, -1] (h_T), not the first step or the mean."),
        Case("3 windows, 4 steps, 3 units, bias b != 0", square,
             hint="Softmax over the steps of each window (axis 1): every row of weights sums to 1, not every column."),
        Case("random: 4 windows, 8 steps, d = 5, attention size a = 3", _attention_inputs(rng, 4, 8, 5, 3),
             hint="s = tanh(outputs @ W.T + (q @ U.T + b)[:, None]) @ v: the tanh comes before v, and b is added once "
                  "inside it."),
        Case("scores in the hundreds: a stable softmax", big,
             hint="exp(900) overflows to inf and inf/inf is NaN: subtract each row's largest score before np.exp "
                  "(the weights do not change)."),
        Case("a window of one step", _attention_inputs(rng, 2, 1, 3, 2),
             hint="With T = 1 the only weight is 1 and the context is that step's output."),
    ]


# ----------------------------------------------------------------------------- 05.2 LSTM parameters
def _lstm_parameter_cases():
    return [
        Case("1 input, 8 units, 1 layer", (1, 8, 1, False),
             hint="One layer: 4 gates x (h*d + h*h + 2h) = 4h(d + h + 2); PyTorch has TWO bias vectors per gate "
                  "(b_ih and b_hh)."),
        Case("1 input, 8 units, 2 layers", (1, 8, 2, False),
             hint="Layer 2 reads the h outputs of layer 1: 4h(h + h + 2), not 4h(d + h + 2)."),
        Case("1 input, 8 units, 1 layer, bidirectional", (1, 8, 1, True),
             hint="Bidirectional: each layer is two LSTMs (forward and backward), so twice the parameters."),
        Case("5 inputs, 16 units, 3 layers, bidirectional", (5, 16, 3, True),
             hint="Above a bidirectional layer the next layer reads BOTH directions: 2h inputs, "
                  "so each direction of layers 2.. has 4h(2h + h + 2)."),
        Case("10 inputs, 4 units, 3 layers", (10, 4, 3, False)),
        Case("3 inputs, 50 units, 2 layers, bidirectional", (3, 50, 2, True),
             hint="Above a bidirectional layer the next layer reads BOTH directions: 2h inputs, "
                  "so each direction of layers 2.. has 4h(2h + h + 2)."),
    ]


# ----------------------------------------------------------------------------- 05.3 multi-horizon loss
def _multi_horizon_cases():
    rng = np.random.default_rng(3)
    prediction, target = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) * np.array([1.0, 2.2, 4.6])
    return [
        Case("hand: zero forecasts of (1, 2, 4), equal weights", (np.zeros((4, 3)), np.tile([1.0, 2.0, 4.0], (4, 1)),
                                                                 None),
             hint="weights=None means equal weights: the mean of the three horizons' MSEs, (1 + 4 + 16) / 3 = 7."),
        Case("weights 1/h for h = 1, 5, 21", (prediction, target, [1.0, 1 / 5, 1 / 21]),
             hint="sum_k w_k MSE_k / sum_k w_k: divide by the sum of the weights, not by the number of horizons."),
        Case("weights (2, 2, 2) equal the unweighted loss", (prediction, target, [2.0, 2.0, 2.0]),
             hint="sum_k w_k MSE_k / sum_k w_k: divide by the sum of the weights, not by the number of horizons."),
        Case("3 samples and 3 horizons: weights belong to the columns", (prediction[:3], target[:3], [1.0, 0.5, 0.1]),
             hint="MSE_k is the mean over the samples (axis 0) of column k; weight k multiplies column k, not row k."),
        Case("errors of different sizes in one column", (np.array([[0.0, 0.0], [0.0, 0.0]]),
                                                         np.array([[1.0, 0.0], [3.0, 0.0]]), [1.0, 1.0]),
             hint="MSE, not RMSE or MAE: the mean of the squared errors, (1 + 9) / 2 = 5 for the first horizon."),
        Case("mismatched shapes: raise ValueError", (np.zeros((4, 3)), np.zeros((4, 2)), None), raises="ValueError",
             hint="prediction and target must have the same (batch, horizons) shape: raise ValueError otherwise."),
        Case("shapes that broadcast, (1, 3) against (4, 3): raise ValueError", (np.zeros((1, 3)), np.ones((4, 3)), None),
             raises="ValueError",
             hint="NumPy would broadcast one row against four: compare the shapes yourself and raise ValueError."),
    ]


# ----------------------------------------------------------------------------- 05.4 early stopping
def _early_stopping_cases():
    return [
        Case("stops after 2 epochs without improvement", ([1.0, 0.8, 0.9, 0.85, 0.7, 0.6], 2, 0.0),
             hint="A wait counter goes up by 1 each epoch without improvement and stops training when it REACHES "
                  "patience (after epoch 4 here); the weights of the best epoch (index 1) are restored."),
        Case("a tie is not an improvement", ([1.0, 0.8, 0.8, 0.9, 0.7], 2, 0.0),
             hint="Improvement means strictly lower: loss < best - min_delta. A tie (0.8 again) counts as no "
                  "improvement."),
        Case("never stops: the best epoch is still restored", ([1.0, 0.5, 0.6, 0.7], 5, 0.0),
             hint="When the epoch budget runs out first, the best weights are still restored (the guide's class "
                  "restores only when patience runs out)."),
        Case("min_delta: smaller gains do not count", ([1.0, 0.95, 0.88, 0.85, 0.84, 0.83], 3, 0.1),
             hint="Improvement means loss < best - min_delta, and `best` changes only on an improvement: 0.95 is no "
                  "improvement on 1.0 with min_delta 0.1, so the best stays 1.0 and 0.88 < 0.9 is the next one."),
        Case("min_delta is absolute, not relative", ([2.0, 1.85, 1.84, 1.83, 1.82], 2, 0.1),
             hint="Improvement means loss < best - min_delta with min_delta in the loss's units: 1.85 < 2.0 - 0.1 is "
                  "one (epoch 1); 1.84 and 1.83 are not, so training stops after epoch 3 and keeps epoch 1."),
        Case("an improvement resets the wait", ([1.0, 1.1, 0.9, 1.0, 0.95, 0.8], 2, 0.0),
             hint="An improvement resets the wait counter to 0: after 0.9 (epoch 2) the count starts again, so training "
                  "stops after epoch 4 (5 epochs run) and keeps epoch 2's weights."),
        Case("patience None: run every epoch", ([3.0, 2.0, 2.5, 2.6, 2.7, 2.8, 1.9], None, 0.0),
             hint="patience=None means no early stop: all epochs run and the best one is restored."),
        Case("the first epoch is the best", ([0.5, 0.6, 0.7], 1, 0.0),
             hint="Epochs are numbered from 0 like the list: the first epoch's index is 0."),
    ]


# ----------------------------------------------------------------------------- 05.5 causality probe
def _probe_series(n: int = 160) -> np.ndarray:
    """The last n closes of the S&P 500. The cases' pipelines live in ``course_lib.models`` (not here) so that the
    grader's sandbox, which has no ``course_lib.grading.chNN``, can unpickle them."""
    close = data.load_sp500()["Close"].to_numpy()
    return close[-n:].copy()


def _probe_cases():
    prices = _probe_series()
    after_rows = ("Rewrite only the rows AFTER the origin (series[t + 1:]) and compare only the forecast FOR that "
                  "origin: the forecasts of later origins may change, they see the rewritten rows legitimately.")
    return [
        Case("a trailing mean of 5 closes (causal)", (partial(window_mean_forecast), prices, [20, 60, 100, 140]),
             hint=after_rows),
        Case("a centred mean of 5 closes (leaks)", (partial(window_mean_forecast, window=5, lead=2), prices,
                                                    [20, 60, 100, 140]),
             hint="An origin leaks when ITS forecast changes after rows t+1.. are rewritten: return those origins."),
        Case("standardized with the whole series' mean and std (leaks)", (partial(zscore_forecast), prices,
                                                                          [30, 90, 150])),
        Case("standardized with the values up to t (causal)", (partial(zscore_forecast, expanding=True), prices,
                                                               [30, 90, 150]), hint=after_rows),
        Case("a forecast that reads the row 3 steps ahead", (partial(window_mean_forecast, window=1, lead=3),
                                                             prices, [40, 80, 120]),
             hint="Rewrite EVERY row after the origin, not only the next one: a pipeline may read t + 3 and not t + 1."),
        Case("a scaler fitted on the first 100 rows", (partial(zscore_forecast, fit_rows=100), prices,
                                                       [30, 70, 120, 150]),
             hint="Return the origins themselves (here [30, 70]: their scaler saw later rows), in the order given, "
                  "not their positions in the list."),
    ]


# ----------------------------------------------------------------------------- 05.6 cosine schedule
def _cosine_cases():
    return [
        Case("0.01 down to 0.001 over 10 epochs", (0.01, 0.001, 10),
             hint="eta_e = min_lr + (lr - min_lr)(1 + cos(pi e / E)) / 2 for e = 0..E-1: the first epoch uses lr, "
                  "the rate never reaches min_lr inside the E epochs (it would at e = E)."),
        Case("0.1 down to 0 over 5 epochs", (0.1, 0.0, 5),
             hint="eta_e = min_lr + (lr - min_lr)(1 + cos(pi e / E)) / 2 for e = 0..E-1: the first epoch uses lr, "
                  "the rate never reaches min_lr inside the E epochs (it would at e = E)."),
        Case("a floor: 3e-3 down to 1e-4 over 20 epochs", (3e-3, 1e-4, 20),
             hint="The cosine runs between lr and min_lr: min_lr + (lr - min_lr) * (1 + cos) / 2, not lr * (1 + cos) / 2."),
        Case("one epoch", (1.0, 0.5, 1), hint="One epoch trains with the initial rate: [1.0]."),
    ]


EXERCISES = [
    Exercise("05.1", "Additive attention pooling", "additive_attention", 2, additive_attention_reference,
             _attention_cases,
             "outputs (batch, T, d); q = outputs[:, -1]; s = tanh(outputs W^T + (q U^T + b)) v; weights = softmax of s "
             "over the T steps; context = sum_t weights[:, t] outputs[:, t]. Return (context (batch, d), weights "
             "(batch, T)) as NumPy arrays.",
             also_implemented_by=("course_lib.models:TemporalAttention", "course_lib.models:AttentionLSTM")),
    Exercise("05.2", "Parameters of a stacked bidirectional LSTM", "lstm_parameters", 1, lstm_parameters_reference,
             _lstm_parameter_cases,
             "Per layer and direction 4h(d_l + h + 2), with d_1 = input_size and d_l = h (or 2h above a bidirectional "
             "layer) for the layers above; times 2 directions when bidirectional. Return an int.",
             also_implemented_by=("course_lib.lstm_scratch:lstm_parameter_count", "course_lib.models:parameter_count")),
    Exercise("05.3", "The weighted multi-horizon loss", "multi_horizon_loss", 1, multi_horizon_loss_reference,
             _multi_horizon_cases,
             "sum_k w_k MSE_k / sum_k w_k with MSE_k the mean over the samples of column k's squared error; "
             "weights=None means equal weights. Return a float.",
             also_implemented_by=("course_lib.models:multi_horizon_loss",)),
    Exercise("05.4", "Early stopping: when to stop, which weights to keep", "early_stopping", 2,
             early_stopping_reference, _early_stopping_cases,
             "An epoch improves when loss < best - min_delta (best starts at +inf and changes only on an "
             "improvement); a counter of epochs without improvement stops training when it reaches patience "
             "(None: never). Return (epochs run, 0-based index of the best epoch), both ints."),
    # No also_implemented_by: training.fit stops early inside a training loop but cannot answer this from a list of
    # losses, and it must stay usable while grading chapter 05 (its notebooks train models with it).
    Exercise("05.5", "A causality probe", "leaky_origins", 2, leaky_origins_reference, _probe_cases,
             "For each origin t: rewrite series[t + 1:] (e.g. with random noise), rerun pipeline(series, origins), "
             "and report t if the forecast for t moved beyond a relative 1e-9. Return the list of those origins.",
             also_implemented_by=("course_lib.evaluation.diagnostics:lookahead_origins",)),
    Exercise("05.6", "The cosine annealing schedule", "cosine_learning_rates", 1, cosine_learning_rates_reference,
             _cosine_cases,
             "The rate used in each epoch e = 0..epochs-1: min_lr + (lr - min_lr)(1 + cos(pi e / epochs)) / 2, as "
             "torch.optim.lr_scheduler.CosineAnnealingLR(T_max=epochs, eta_min=min_lr) sets it. Return a list of "
             "floats."),
]
