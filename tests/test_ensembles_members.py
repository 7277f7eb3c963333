"""course_lib.ensembles.ensembles: weights against scipy and hand sums, block bootstraps against the autocorrelation
an i.i.d. bootstrap destroys, seed and bootstrap ensembles trained through course_lib.training."""
import re

import numpy as np
import pytest
import torch
from arch.bootstrap import optimal_block_length
from scipy.optimize import lsq_linear
from statsmodels.tsa.stattools import acf

from course_lib import data
from course_lib import ensembles as E
from course_lib.models import LSTMForecaster
from course_lib.training import predict
from course_lib.windows import make_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- weights and combination
def test_inverse_mse_weights_by_hand():
    truth = np.array([0.0, 0.0, 0.0, 0.0])
    members = np.array([[1.0, -1.0, 1.0, -1.0],        # MSE 1
                        [2.0, -2.0, 2.0, -2.0]])       # MSE 4
    np.testing.assert_allclose(E.inverse_mse_weights(members, truth), [0.8, 0.2])      # (1, 1/4) / 1.25
    perfect = np.vstack([members, truth])
    np.testing.assert_allclose(E.inverse_mse_weights(perfect, truth), [0, 0, 1])       # a perfect member takes all


def test_nnls_weights_match_scipys_bounded_least_squares():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    members = np.vstack([truth + rng.normal(scale=s, size=200) for s in (0.5, 1.0, 2.0)] + [-truth])
    expected = lsq_linear(members.T, truth, bounds=(0, np.inf)).x
    weights = E.nnls_weights(members, truth)
    np.testing.assert_allclose(weights, expected, atol=1e-6)
    assert weights[-1] == 0 and (weights >= 0).all()                 # the anti-forecaster gets nothing


def test_nnls_recovers_an_exact_non_negative_combination():
    rng = np.random.default_rng(1)
    members = rng.normal(size=(3, 50))
    truth = 0.7 * members[0] + 0.3 * members[1]
    np.testing.assert_allclose(E.nnls_weights(members, truth), [0.7, 0.3, 0.0], atol=1e-10)


def test_fit_weights_dispatches_and_combine_is_the_weighted_sum():
    members, truth = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(E.fit_weights(members, truth, "equal"), [0.5, 0.5])
    np.testing.assert_allclose(E.fit_weights(members, truth, "nnls"), [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(E.combine(members), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(E.combine(members, [0.25, 0.75]), [2.5, 2.0, 1.5])


@pytest.mark.parametrize("call, message", [
    (lambda: E.fit_weights(np.ones((2, 3)), np.ones(3), "stacking"), "method must be one of"),
    (lambda: E.inverse_mse_weights(np.ones((2, 3)), np.ones(4)), "3 forecasts per member"),
    (lambda: E.nnls_weights(np.array([[1.0, np.nan]]), [1.0, 2.0]), "NaN (first: member 0, forecast 1)"),
    (lambda: E.combine(np.ones((2, 3)), [1.0, 0.0, 0.0]), "3 weights for 2 members"),
    (lambda: E.combine(np.ones((2, 3, 1))), "must be (members, forecasts)"),
    (lambda: E.block_bootstrap_indices(10, 11), "block length 11 exceeds"),
    (lambda: E.block_bootstrap_indices(10, 2, kind="tapered"), "kind must be one of"),
    (lambda: E.block_length(np.ones(5)), "at least 10"),
    (lambda: E.iid_bootstrap_indices(0), "n must be a positive integer"),
    (lambda: E.member_predictions([], np.zeros((1, 2, 1))), "at least one member"),
    (lambda: E.train_seed_ensemble(lambda: None, None, seeds=(1, 1)), "distinct"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# ----------------------------------------------------------------------------- resampling
def _ar1(phi=0.8, n=3000, seed=0):
    return data.ar1(n, phi, seed=seed).to_numpy()


def test_block_bootstrap_keeps_the_autocorrelation_that_the_iid_bootstrap_destroys():
    series = _ar1()
    original = acf(series, nlags=1)[1]                                # about 0.8
    block = E.block_length(series, "stationary")
    iid = np.mean([acf(series[E.iid_bootstrap_indices(len(series), seed)], nlags=1)[1] for seed in range(5)])
    kept = {kind: np.mean([acf(series[E.block_bootstrap_indices(len(series), block, kind, seed)], nlags=1)[1]
                           for seed in range(5)]) for kind in ("stationary", "circular", "moving")}
    assert original > 0.75 and abs(iid) < 0.05
    for kind, rho in kept.items():
        # within a block the lag-1 pairs are the original ones; one pair per block (about 1 in `block`) is broken
        assert rho == pytest.approx(original * (1 - 1 / block), abs=0.06), kind


def test_block_length_is_arch_optimal_block_length_rounded_up():
    series = _ar1()
    table = optimal_block_length(series)
    assert E.block_length(series, "stationary") == int(np.ceil(table["stationary"].iloc[0]))
    assert E.block_length(series, "circular") == int(np.ceil(table["circular"].iloc[0]))
    assert E.block_length(series) > 3 * E.block_length(np.random.default_rng(0).normal(size=3000))


def test_moving_blocks_are_runs_of_consecutive_positions():
    n, block = 100, 10
    positions = E.block_bootstrap_indices(n, block, "moving", seed=3)
    assert positions.shape == (n,) and positions.min() >= 0 and positions.max() < n
    runs = positions.reshape(-1, block)
    assert (np.diff(runs, axis=1) == 1).all()                         # no wrap-around for the moving bootstrap
    circular = E.block_bootstrap_indices(n, block, "circular", seed=3).reshape(-1, block)
    assert (np.diff(circular, axis=1) % n == 1).all()                  # circular blocks may wrap from 99 to 0


def test_stationary_blocks_have_the_requested_mean_length():
    positions = E.block_bootstrap_indices(20000, 8, "stationary", seed=0)
    breaks = np.count_nonzero(np.diff(positions) % 20000 != 1)
    assert 20000 / (breaks + 1) == pytest.approx(8, rel=0.1)


def test_resamples_are_reproducible_and_seeded():
    assert np.array_equal(E.iid_bootstrap_indices(50, 1), E.iid_bootstrap_indices(50, 1))
    assert not np.array_equal(E.iid_bootstrap_indices(50, 1), E.iid_bootstrap_indices(50, 2))
    assert np.array_equal(E.block_bootstrap_indices(50, 5, seed=4), E.block_bootstrap_indices(50, 5, seed=4))


# ----------------------------------------------------------------------------- training members
@pytest.fixture(scope="module")
def tiny_dataset():
    series = data.sine_with_noise(260, period=20.0, noise=0.2, seed=0)
    return make_dataset(series, window=10, train=0.6, validation=0.2, method="standard")


def _tiny_model():
    return LSTMForecaster(1, 4)


def test_seed_ensemble_members_differ_and_are_reproducible(tiny_dataset):
    members = E.train_seed_ensemble(_tiny_model, tiny_dataset, seeds=(0, 1, 2), epochs=3, lr=0.01)
    again = E.train_member(_tiny_model, tiny_dataset, seed=1, epochs=3, lr=0.01)
    predictions = E.member_predictions(members, tiny_dataset.x_test)
    assert predictions.shape == (3, len(tiny_dataset.x_test))
    assert all(not model.training for model in members)
    np.testing.assert_array_equal(predictions[1], predict(again, tiny_dataset.x_test).ravel())
    assert np.abs(predictions[0] - predictions[2]).max() > 1e-4
    # squared error is convex: the mean forecast is never worse than the members' average error
    errors = ((predictions - tiny_dataset.y_test.ravel()) ** 2).mean(axis=1)
    combined = ((E.combine(predictions) - tiny_dataset.y_test.ravel()) ** 2).mean()
    assert combined <= errors.mean() + 1e-12


def test_bootstrap_member_trains_on_its_resample(tiny_dataset):
    n = len(tiny_dataset.x_train)
    identity = E.train_bootstrap_ensemble(_tiny_model, tiny_dataset, [np.arange(n)], seed=5, epochs=2, lr=0.01)
    plain = E.train_member(_tiny_model, tiny_dataset, seed=5, epochs=2, lr=0.01)
    resampled = E.train_bootstrap_ensemble(_tiny_model, tiny_dataset, [E.iid_bootstrap_indices(n, 0)], seed=5,
                                           epochs=2, lr=0.01)
    x = tiny_dataset.x_test
    np.testing.assert_array_equal(predict(identity[0], x), predict(plain, x))      # the identity resample
    assert np.abs(predict(resampled[0], x) - predict(plain, x)).max() > 1e-4      # another resample, another fit
    with pytest.raises(ValueError, match=re.escape(f"positions in [0, {n})")):
        E.train_bootstrap_ensemble(_tiny_model, tiny_dataset, [np.array([0, n])], epochs=1)


def test_member_predictions_keeps_several_outputs():
    torch.manual_seed(0)
    models = [LSTMForecaster(2, 3, outputs=4) for _ in range(2)]
    x = np.random.default_rng(0).normal(size=(5, 6, 2))
    assert E.member_predictions(models, x).shape == (2, 5, 4)
