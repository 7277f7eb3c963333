"""course_lib.windows and course_lib.splits: windows vs a hand-written loop, folds vs scikit-learn, bad input."""
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.model_selection import TimeSeriesSplit
from torch.utils.data import DataLoader, TensorDataset

from course_lib import data
from course_lib.preprocessing import Scaler
from course_lib.splits import chronological_split, time_series_split, walk_forward_splits
from course_lib.windows import WindowSpec, make_dataset, make_loaders, make_windows


def windows_by_loop(values, window, horizon, target, multi_step):
    """The obvious loop, written independently: X[i] = values[i:i+window], label(s) after it."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    xs, ys = [], []
    for i in range(len(values) - window - horizon + 1):
        xs.append(values[i:i + window])
        if multi_step:
            ys.append(values[i + window:i + window + horizon, target])
        else:
            ys.append(values[i + window + horizon - 1, target])
    return np.array(xs), np.array(ys)


@pytest.mark.parametrize("window, horizon", [(1, 1), (3, 1), (5, 2), (4, 7), (10, 3)])
@pytest.mark.parametrize("multi_step", [False, True])
@pytest.mark.parametrize("features, target", [(1, 0), (3, 2), (3, 0)])
def test_windows_equal_a_hand_written_loop(window, horizon, multi_step, features, target):
    values = np.random.default_rng(window * 10 + horizon).normal(size=(25, features))
    x, y = make_windows(values, window, horizon, target=target if features > 1 else None, multi_step=multi_step)
    expected_x, expected_y = windows_by_loop(values, window, horizon, target, multi_step)
    assert x.shape == (25 - window - horizon + 1, window, features)
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)


def test_the_guides_create_sliding_windows_is_the_same_cut():
    """Guide §3.1.2: for i in range(W, n - h + 1): X = data[i-W:i], y = data[i+h-1]."""
    series = np.arange(30.0) ** 1.5
    for window, horizon in [(5, 1), (5, 3)]:
        xs = [series[i - window:i] for i in range(window, len(series) - horizon + 1)]
        ys = [series[i + horizon - 1] for i in range(window, len(series) - horizon + 1)]
        x, y = make_windows(series, window, horizon)
        np.testing.assert_array_equal(x[..., 0], np.array(xs))
        np.testing.assert_array_equal(y, np.array(ys))


def test_target_by_name_and_outputs_are_writable_copies(sp500):
    frame = sp500[["Open", "Close", "Volume"]].iloc[:100]
    x, y = make_windows(frame, 10, target="Close")
    np.testing.assert_array_equal(y, frame["Close"].to_numpy()[10:])
    x[0, 0, 0] = -1.0
    assert frame.iloc[0, 0] > 0 and x.flags.writeable and y.flags.writeable


def test_window_spec_repr_and_label_positions():
    spec = WindowSpec(5, 2)
    assert repr(spec) == "WindowSpec(window=5, horizon=2, multi_step=False): inputs t+0..t+4 -> label t+6"
    assert "label t+5..t+7" in repr(WindowSpec(5, 3, multi_step=True))
    np.testing.assert_array_equal(spec.label_positions(10), [6, 7, 8, 9])


@pytest.mark.parametrize("call, message", [
    (lambda: make_windows(np.arange(5.0), 5), "too short for window 5 and horizon 1: it needs at least 6"),
    (lambda: make_windows(np.arange(5.0), 3, horizon=0), "horizon must be a positive integer"),
    (lambda: make_windows(np.arange(5.0), 0), "window must be a positive integer"),
    (lambda: make_windows(np.array([1.0, np.nan, 2.0, 3.0]), 2), "NaN .first at row 1"),
    (lambda: make_windows(np.zeros((4, 2, 2)), 2), "1-D or 2-D"),
    (lambda: make_windows(np.zeros((6, 2)), 2), "say which one is the target"),
    (lambda: make_windows(pd.DataFrame({"a": np.arange(6.0)}), 2, target="b"), "target 'b' is not a column"),
    (lambda: make_windows(np.array(["a", "b", "c"]), 1), "numeric"),
])
def test_bad_window_input_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- splits
def test_chronological_split_keeps_order_and_sizes():
    train, val, test = chronological_split(100, 0.7, 0.15)
    assert (len(train), len(val), len(test)) == (70, 15, 15)
    assert train[-1] < val[0] and val[-1] < test[0]
    assert np.array_equal(np.concatenate([train, val, test]), np.arange(100))


@pytest.mark.parametrize("expanding", [True, False])
@pytest.mark.parametrize("gap", [0, 1, 5])
def test_walk_forward_folds_never_overlap_test_follows_train_gap_respected(expanding, gap):
    folds = list(walk_forward_splits(200, n_splits=5, test_size=20, gap=gap, expanding=expanding))
    assert len(folds) == 5
    previous_test_end = None
    for train, test in folds:
        assert len(test) == 20 and len(np.intersect1d(train, test)) == 0
        assert test[0] - train[-1] - 1 == gap
        assert np.array_equal(test, np.arange(test[0], test[0] + 20))
        if previous_test_end is not None:
            assert test[0] == previous_test_end
        previous_test_end = test[-1] + 1
    assert previous_test_end == 200
    lengths = [len(train) for train, _ in folds]
    assert lengths == sorted(lengths) and (lengths[0] < lengths[-1] if expanding else len(set(lengths)) == 1)


@pytest.mark.parametrize("n, n_splits, test_size, gap", [(100, 5, None, 0), (100, 3, 10, 2), (57, 4, None, 3)])
def test_time_series_split_matches_scikit_learn(n, n_splits, test_size, gap):
    ours = list(time_series_split(n, n_splits, test_size, gap))
    theirs = list(TimeSeriesSplit(n_splits=n_splits, test_size=test_size, gap=gap).split(np.zeros(n)))
    assert len(ours) == len(theirs)
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


def test_rolling_folds_match_scikit_learn_max_train_size():
    ours = list(walk_forward_splits(120, 4, 15, gap=2, expanding=False, train_size=30))
    theirs = list(TimeSeriesSplit(n_splits=4, test_size=15, gap=2, max_train_size=30).split(np.zeros(120)))
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


@pytest.mark.parametrize("call, message", [
    (lambda: chronological_split(100, 0.9, 0.2), "train \\+ validation < 1"),
    (lambda: chronological_split(3, 0.5, 0.1), "too few"),
    (lambda: list(walk_forward_splits(50, 5, 10)), "cannot hold 5 test blocks"),
    (lambda: list(walk_forward_splits(50, 2, 10, gap=-1)), "gap must be a non-negative"),
    (lambda: list(walk_forward_splits(50, 2, 10, train_size=40)), "train_size 40 is longer"),
    (lambda: list(walk_forward_splits(50, 0, 10)), "n_splits must be a positive"),
])
def test_bad_split_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- the pipeline and loaders
def test_make_dataset_fits_the_scaler_on_training_rows_only(sp500):
    close = sp500["Close"]
    first = make_dataset(close, window=20)
    changed = close.copy()
    changed.iloc[int(len(close) * 0.7):] *= 3.0          # rewrite validation and test rows
    second = make_dataset(changed, window=20)
    np.testing.assert_array_equal(first.scaler.center_, second.scaler.center_)
    np.testing.assert_array_equal(first.scaler.scale_, second.scaler.scale_)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert first.y_train.max() <= 1.0 + 1e-12 and first.y_test.max() > 1.0   # test prices above the training max


def test_make_dataset_labels_are_chronological_and_invert_to_prices(sp500):
    close = sp500["Close"]
    dataset = make_dataset(close, window=30, horizon=2)
    idx = dataset.label_index
    assert idx["train"][-1] < idx["val"][0] and idx["val"][-1] < idx["test"][0]
    np.testing.assert_allclose(dataset.to_price_units(dataset.y_test), close.loc[idx["test"]].to_numpy(), rtol=1e-12)
    assert len(dataset.y_train) + len(dataset.y_val) + len(dataset.y_test) == len(close) - 30 - 2 + 1


def test_loaders_keep_time_order_for_evaluation_and_seed_the_shuffle(sp500):
    dataset = make_dataset(sp500["Close"], window=10)
    loaders = make_loaders(dataset, batch_size=32, seed=1)
    test_y = torch.cat([y for _, y in loaders["test"]]).numpy()
    np.testing.assert_allclose(test_y, dataset.y_test.astype(np.float32))
    first_batch = next(iter(make_loaders(dataset, batch_size=32, seed=1)["train"]))[1]
    again = next(iter(make_loaders(dataset, batch_size=32, seed=1)["train"]))[1]
    assert torch.equal(first_batch, again)
    assert not np.allclose(first_batch.numpy(), dataset.y_train[:32].astype(np.float32))
    x, _ = next(iter(loaders["val"]))
    assert x.dtype == torch.float32 and x.shape == (32, 10, 1)


def test_make_dataset_refuses_a_series_too_short_for_its_splits():
    with pytest.raises(ValueError, match="no window has all its labels in the"):
        make_dataset(data.random_walk(30), window=25)


# ----------------------------------------------------------------------------- part boundaries (label rows)
def label_rows_by_part(n, window, horizon, multi_step, gap, train=0.7, validation=0.15):
    """Independent reference: the label rows of every window, and the part each window must go to.

    Parts of the rows: train [0, a), validation [a, b), test [b, n) with a = int(n * train),
    b = a + int(n * validation). A window goes to a part when all its label rows lie in it (and, for
    validation and test, at least ``gap`` rows after the part's first row); otherwise to no part.
    """
    a, b = int(n * train), int(n * train) + int(n * validation)
    parts = {"train": [], "val": [], "test": []}
    for start in range(n - window - horizon + 1):
        last_input = start + window - 1
        rows = list(range(last_input + 1, last_input + horizon + 1)) if multi_step else [last_input + horizon]
        if rows[-1] < a:
            parts["train"].append(rows)
        elif rows[0] >= a + gap and rows[-1] < b:
            parts["val"].append(rows)
        elif rows[0] >= b + gap:
            parts["test"].append(rows)
    return parts


def label_rows_of(dataset):
    """Label rows of each part, read back from a dataset cut from values equal to their row numbers."""
    rows = {}
    for part in ("train", "val", "test"):
        y = dataset.to_price_units(getattr(dataset, f"y_{part}"))
        rows[part] = np.rint(y.reshape(len(y), -1)).astype(int).tolist()
    return rows


@pytest.mark.parametrize("multi_step", [False, True])
@pytest.mark.parametrize("window, horizon", [(5, 1), (4, 3), (6, 5)])
@pytest.mark.parametrize("gap", [0, 2])
def test_no_row_is_a_label_in_two_parts_and_parts_follow_each_other(multi_step, window, horizon, gap):
    """The multi-step bug: assigned by its last label, the first horizon-1 validation windows were scored on
    training label rows. All label rows of a part must come after all label rows of the part before it."""
    n = 60
    extra = {"gap": gap} if gap else {}
    dataset = make_dataset(np.arange(n, dtype=float), window, horizon, multi_step=multi_step, **extra)
    got = label_rows_of(dataset)
    assert got == label_rows_by_part(n, window, horizon, multi_step, gap)
    flat = {part: set(np.ravel(rows)) for part, rows in got.items()}
    assert not flat["train"] & flat["val"] and not flat["val"] & flat["test"] and not flat["train"] & flat["test"]
    assert max(flat["train"]) < min(flat["val"]) and max(flat["val"]) < min(flat["test"])
    a, b = int(n * 0.7), int(n * 0.7) + int(n * 0.15)
    assert max(flat["train"]) <= a - 1 and min(flat["val"]) >= a + gap and min(flat["test"]) >= b + gap
    if multi_step and horizon > 1 and gap == 0:
        assert min(flat["val"]) == a and len(got["train"]) + len(got["val"]) + len(got["test"]) == \
            (n - window - horizon + 1) - 2 * (horizon - 1)   # the straddling windows are dropped
    dates = dataset.label_index
    assert [r[-1] for r in got["val"]] == list(dates["val"])   # label_index holds each window's last label row


def test_inputs_of_later_parts_may_read_earlier_rows_but_labels_never_do():
    dataset = make_dataset(np.arange(60.0), window=6, horizon=5, multi_step=True)
    first_val_inputs = np.rint(dataset.to_price_units(dataset.x_val[0, :, 0])).astype(int)
    np.testing.assert_array_equal(first_val_inputs, np.arange(36, 42))   # rows 36..41: the past, allowed
    np.testing.assert_array_equal(np.rint(dataset.to_price_units(dataset.y_val[0])), np.arange(42, 47))


def test_the_scaler_sees_only_the_rows_training_windows_use(sp500):
    frame = sp500[["Close", "Volume"]].iloc[:400]
    window, horizon = 12, 4
    dataset = make_dataset(frame, window, horizon, target="Close", multi_step=True)
    a = int(len(frame) * 0.7)
    values = frame.to_numpy()
    np.testing.assert_allclose(dataset.scaler.center_, values[:a].min(axis=0), rtol=1e-15)
    np.testing.assert_allclose(dataset.scaler.scale_, values[:a].max(axis=0) - values[:a].min(axis=0), rtol=1e-15)
    starts = np.arange(len(dataset.y_train))
    input_rows = set((starts[:, None] + np.arange(window)).ravel())
    label_rows = set((starts[:, None] + window + np.arange(horizon)).ravel())
    assert input_rows | label_rows == set(range(a))         # the target column: exactly the training rows
    assert max(input_rows) < a and max(label_rows) == a - 1


def test_make_dataset_takes_a_scaler_and_leaves_the_callers_one_alone(sp500):
    close = sp500["Close"]
    mine = Scaler("minmax", feature_range=(0.0, 0.4))
    dataset = make_dataset(close, window=10, method=mine)
    assert mine.center_ is None and dataset.scaler is not mine
    assert dataset.y_train.min() == pytest.approx(0.0, abs=1e-12) and dataset.y_train.max() == pytest.approx(0.4)
    plain = make_dataset(close, window=10)
    np.testing.assert_allclose(dataset.y_test, 0.4 * plain.y_test, rtol=1e-12)
    np.testing.assert_allclose(dataset.to_price_units(dataset.y_test), close.loc[dataset.label_index["test"]],
                               rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: make_dataset(np.arange(50.0), 5, gap=-1), "gap must be a non-negative integer"),
    (lambda: make_dataset(np.arange(50.0), 5, gap=1.5), "gap must be a non-negative integer"),
    (lambda: make_dataset(np.arange(50.0), 5, method=3), "method must be a scaling method name or a Scaler"),
    (lambda: make_dataset(np.arange(50.0), 5, gap=8), "no window has all its labels in the val part"),
])
def test_bad_dataset_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_windows_without_a_scaler_refuse_to_invent_price_units(sp500):
    dataset = make_dataset(sp500["Close"], window=10)
    bare = type(dataset)(*[getattr(dataset, f"{a}_{p}") for p in ("train", "val", "test") for a in ("x", "y")],
                         None, 0, dataset.label_index)
    with pytest.raises(ValueError, match="not scaled by a Scaler"):
        bare.to_price_units(bare.y_test)


def test_first_label_positions():
    np.testing.assert_array_equal(WindowSpec(3, 2, multi_step=True).first_label_positions(8), [3, 4, 5, 6])
    np.testing.assert_array_equal(WindowSpec(3, 2, multi_step=True).label_positions(8), [4, 5, 6, 7])
    np.testing.assert_array_equal(WindowSpec(3, 2).first_label_positions(8), WindowSpec(3, 2).label_positions(8))


@pytest.mark.parametrize("batch_size, seed", [(32, 0), (100, 3)])
def test_loaders_give_the_batches_of_a_plain_shuffled_dataloader(sp500, batch_size, seed):
    """make_loaders draws each batch with one index operation; the batches must be those of the plain loader."""
    dataset = make_dataset(sp500["Close"].iloc[:700], window=10)
    ours = make_loaders(dataset, batch_size=batch_size, seed=seed)
    tensors = TensorDataset(torch.as_tensor(dataset.x_train, dtype=torch.float32),
                            torch.as_tensor(dataset.y_train, dtype=torch.float32))
    plain = DataLoader(tensors, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    for _ in range(2):                                     # two epochs: the generator moves on the same way
        for (x_a, y_a), (x_b, y_b) in zip(ours["train"], plain, strict=True):
            assert torch.equal(x_a, x_b) and torch.equal(y_a, y_b)
    val = torch.cat([y for _, y in ours["val"]])
    assert torch.equal(val, torch.as_tensor(dataset.y_val, dtype=torch.float32))
    assert [len(y) for _, y in ours["val"]][:-1] == [batch_size] * (len(ours["val"]) - 1)
