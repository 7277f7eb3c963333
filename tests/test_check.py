"""The learner's check(): every registered exercise passes with its reference, fails with a stub, and fails, with
the hint written for it, on a bank of plausible wrong answers (the mistakes a learner makes, one function each)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from course_lib.grading import all_exercises, check, run_checks
from course_lib.grading.check import FAILED, NOT_IMPLEMENTED, PASSED

EXERCISE_IDS = list(all_exercises())


def stub(*args, **kwargs):
    raise NotImplementedError


def returns_zero(*args, **kwargs):
    return 0.0


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_reference_passes_every_case(exercise_id):
    exercise = all_exercises()[exercise_id]
    report = run_checks(exercise_id, exercise.reference)
    assert report.status == PASSED, report.summary()
    assert report.points == exercise.points
    assert len(exercise.cases()) >= 3


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_stub_is_not_implemented_and_scores_zero(exercise_id):
    report = run_checks(exercise_id, stub)
    assert report.status == NOT_IMPLEMENTED and report.points == 0
    assert "not implemented yet" in report.summary()


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_a_wrong_answer_fails(exercise_id):
    report = run_checks(exercise_id, returns_zero)
    assert report.status == FAILED and report.points == 0


def test_fail_message_names_the_case_expected_got_and_hint(capsys):
    def log_returns_without_check(prices):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(prices).diff().iloc[1:]

    check("00.1", log_returns_without_check)
    out = capsys.readouterr().out
    assert out.startswith("FAIL  00.1 log_returns: 3/5 cases pass\n")
    assert "  ✗ case 'a zero price must raise ValueError': expected ValueError to be raised, got a Series" in out
    assert "    hint: ln(0) is -inf" in out


def test_a_value_mismatch_reports_expected_and_got(capsys):
    def simple_instead_of_log(prices):
        if (prices <= 0).any():
            raise ValueError("prices must be positive")
        return (prices / prices.shift(1) - 1).iloc[1:]

    check("00.1", simple_instead_of_log)
    out = capsys.readouterr().out
    assert "case 'first six S&P 500 closes': the Series's values: 5 of 5 value(s) differ; first at position 0 " \
           "(index 1999-01-05T00:00:00): expected 0.01349" in out


def test_every_failing_case_is_listed_own_hints_first_and_a_shared_hint_once(capsys):
    """01.3 with one bias per gate: all five cases fail; each group of cases is followed by its hint, once."""
    check("01.3", lambda d, h, n: 4 * h * (d + h + 1) + (n - 1) * 4 * h * (2 * h + 1))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "FAIL  01.3 lstm_param_count: 0/5 cases pass"
    assert lines[1] == "  ✗ case 'input 1, hidden 64, 1 layer(s)': expected 17152, got 16896"
    assert lines[3].startswith("    hint for the 2 cases above: PyTorch gives each gate two bias vectors")
    assert [line.startswith("  ✗ case") for line in lines[1:]].count(True) == 5
    assert sum("hint" in line for line in lines) == 2


def test_the_general_hint_comes_last_and_once(capsys):
    def one_bias_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh):
        z = x @ weight_ih.T + bias_ih + h @ weight_hh.T
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
        c_new = _sigmoid(z_f) * c + _sigmoid(z_i) * np.tanh(z_g)
        return _sigmoid(z_o) * np.tanh(c_new), c_new

    check("01.2", one_bias_cell)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "FAIL  01.2 lstm_cell_step: 2/6 cases pass"
    assert lines[1].startswith("  ✗ case 'bias_hh alone (bias_ih = 0)': result[0]: 8 of 8 value(s) differ")
    assert lines[2].startswith("    hint: Both biases enter z")
    assert lines[-1].startswith("    hint for the 3 cases above: Compute z = x W_ih^T")
    assert out.count("Compute z = x W_ih^T") == 1


def test_long_messages_are_cut(capsys):
    def verbose_error(x):
        raise ValueError("x" * 1000)

    check("00.3", verbose_error)
    cases = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  ✗ case")]
    assert len(cases) == 3
    assert all(len(line.split("': ", 1)[1]) == 160 and line.endswith("x…") for line in cases)


def test_a_returned_generator_is_described_not_reported_as_raised(capsys):
    def folds_as_generator(n_samples, n_splits, test_size, gap):
        for k in range(n_splits):
            start = n_samples - (n_splits - k) * test_size
            yield np.arange(0, start - gap), np.arange(start, start + test_size)

    check("04.3", folds_as_generator)
    out = capsys.readouterr().out
    assert "UnsupportedAnswer" not in out and "raised" not in out
    assert "case '20 samples, 3 folds of 4, no gap': returned a generator; expected a list or tuple of 3 items, " \
           "each a pair (array, array) (build a list, e.g. list(...) of it)" in out


def test_an_object_inside_a_tuple_is_located():
    report = run_checks("02.4", lambda r, prev: (prev * np.exp(r), iter(prev[0] * np.exp(np.cumsum(r)))))
    assert report.cases[0].message == ("returned a tuple holding an iterator (iterator) at [1]; "
                                       "expected a pair (array, array) (build a list, e.g. list(...) of it)")


def test_pass_and_todo_lines(capsys):
    from course_lib import stats
    check("00.3", stats.excess_kurtosis)
    check("00.3", stub)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PASS  00.3 excess_kurtosis: 3/3 cases (1 point)"
    assert out[1].startswith("TODO  00.3 excess_kurtosis: not implemented yet")


def test_an_exception_in_the_answer_is_reported_not_raised(capsys):
    def broken(x):
        return 1 / 0

    check("00.3", broken)
    assert "raised ZeroDivisionError: division by zero" in capsys.readouterr().out


def test_check_wants_the_function_not_its_result():
    with pytest.raises(TypeError, match="without parentheses"):
        run_checks("00.3", 0.5)


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="known exercises: 00.1"):
        run_checks("99.9", stub)


def test_answers_get_copies_of_the_inputs():
    def mutating(x):
        x[:] = 0.0
        raise NotImplementedError

    run_checks("00.3", mutating)
    assert run_checks("00.3", all_exercises()["00.3"].reference).passed


# ----------------------------------------------------------------------------- a bank of plausible wrong answers
def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


# ---------------------------------------------------------------- 00
def lr_simple(p):
    if (p <= 0).any():
        raise ValueError
    return (p / p.shift(1) - 1).iloc[1:]

def lr_keeps_nan(p):
    if (p <= 0).any():
        raise ValueError
    return np.log(p / p.shift(1))

def lr_array(p):
    if (p <= 0).any():
        raise ValueError
    return np.diff(np.log(p.to_numpy()))

def lr_first_dates(p):
    if (p <= 0).any():
        raise ValueError
    return pd.Series(np.diff(np.log(p.to_numpy())), index=p.index[:-1])

def lr_only_zero(p):
    if (p == 0).any():
        raise ValueError("zero price")
    with np.errstate(invalid="ignore"):
        return np.log(p / p.shift(1)).iloc[1:]

def lr_lt_zero(p):
    if (p < 0).any():
        raise ValueError("negative price")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p / p.shift(1)).iloc[1:]

def lr_assert(p):
    assert (p > 0).all(), "prices must be positive"
    return np.log(p / p.shift(1)).iloc[1:]

def lr_inf_check(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log(p / p.shift(1)).iloc[1:]
    if np.isinf(r).any():
        raise ValueError("infinite return")
    return r


def ac_corrcoef(x, lag):
    return float(np.corrcoef(x[lag:], x[:len(x) - lag])[0, 1])

def ac_pairs_denominator(x, lag):
    c = x - x.mean()
    return float(np.sum(c[lag:] * c[:len(c) - lag]) / np.sum(c[lag:] ** 2))

def ac_means_of_slices(x, lag):
    a, b = x[lag:], x[:len(x) - lag]
    return float(np.sum((a - a.mean()) * (b - b.mean())) / np.sum((x - x.mean()) ** 2))

def ac_negative_slice(x, lag):
    c = x - x.mean()
    return float(np.sum(c[lag:] * c[:-lag]) / np.sum(c ** 2))

def ac_mean_ratio(x, lag):
    c = x - x.mean()
    return float(np.mean(c[lag:] * c[:len(c) - lag]) / np.var(x))

def ac_pandas(x, lag):
    return float(pd.Series(x).autocorr(lag))


def ku_bias_corrected(x):
    return float(scipy_stats.kurtosis(x, bias=False))

def ku_pandas(x):
    return float(pd.Series(x).kurt())

def ku_no_minus_3(x):
    c = x - x.mean()
    return float(np.mean(c ** 4) / np.mean(c ** 2) ** 2)

def ku_ddof1(x):
    c = x - x.mean()
    return float(np.mean(c ** 4) / x.std(ddof=1) ** 4 - 3)

def ku_raw_moments(x):
    return float(np.mean(x ** 4) / np.mean(x ** 2) ** 2 - 3)


def tf_ddof1(x, k):
    return float(np.mean(np.abs(x - x.mean()) > k * x.std(ddof=1)))

def tf_ge(x, k):
    return float(np.mean(np.abs(x - x.mean()) >= k * x.std()))

def tf_upper_only(x, k):
    return float(np.mean(x - x.mean() > k * x.std()))

def tf_not_centred(x, k):
    return float(np.mean(np.abs(x) > k * x.std()))

def tf_count(x, k):
    return float(np.sum(np.abs(x - x.mean()) > k * x.std()))

def tf_percent(x, k):
    return float(100 * np.mean(np.abs(x - x.mean()) > k * x.std()))

def tf_variance(x, k):
    return float(np.mean(np.abs(x - x.mean()) > k * x.var()))


# ---------------------------------------------------------------- 01
def fg_x_first(x, h_prev, W_f, b_f):
    return _sigmoid(W_f @ np.concatenate([x, h_prev]) + b_f)

def fg_overflowing_sigmoid(x, h_prev, W_f, b_f):
    z = W_f @ np.concatenate([h_prev, x]) + b_f
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(z) / (1 + np.exp(z))

def fg_no_bias(x, h_prev, W_f, b_f):
    return _sigmoid(W_f @ np.concatenate([h_prev, x]))

def fg_tanh(x, h_prev, W_f, b_f):
    return np.tanh(W_f @ np.concatenate([h_prev, x]) + b_f)


def _cell(x, h, c, wi, wh, bi, bh, order="ifgo", biases="both", tanh_c=True, c_in_h=False, swap=False):
    b = {"both": bi + bh, "ih": bi, "hh": bh, "none": 0.0}[biases]
    z = x @ wi.T + h @ wh.T + b
    blocks = dict(zip(order, np.split(z, 4, axis=-1)))
    c_new = _sigmoid(blocks["f"]) * c + _sigmoid(blocks["i"]) * np.tanh(blocks["g"])
    h_new = _sigmoid(blocks["o"]) * (np.tanh(c_new) if tanh_c else c_new)
    if c_in_h:
        h_new = _sigmoid(blocks["o"]) * np.tanh(c)
    return (c_new, h_new) if swap else (h_new, c_new)

cell_ifog = lambda *a: _cell(*a, order="ifog")
cell_fiog = lambda *a: _cell(*a, order="figo")
cell_ih_bias = lambda *a: _cell(*a, biases="ih")
cell_hh_bias = lambda *a: _cell(*a, biases="hh")
cell_no_tanh = lambda *a: _cell(*a, tanh_c=False)
cell_old_c = lambda *a: _cell(*a, c_in_h=True)
cell_swapped = lambda *a: _cell(*a, swap=True)


def pc_one_bias(d, h, n):
    return 4 * h * (d + h + 1) + (n - 1) * 4 * h * (2 * h + 1)

def pc_input_every_layer(d, h, n):
    return n * 4 * h * (d + h + 2)

def pc_no_bias(d, h, n):
    return 4 * h * (d + h) + (n - 1) * 4 * h * 2 * h

def pc_three_gates(d, h, n):
    return 3 * h * (d + h + 2) + (n - 1) * 3 * h * (2 * h + 2)


def _peep(x, h, c, wi, wh, bi, bh, p, o_old=False, rows=(0, 1, 2)):
    z = x @ wi.T + bi + h @ wh.T + bh
    zi, zf, zg, zo = np.split(z, 4, axis=-1)
    i = _sigmoid(zi + p[rows[0]] * c)
    f = _sigmoid(zf + p[rows[1]] * c)
    c_new = f * c + i * np.tanh(zg)
    o = _sigmoid(zo + p[rows[2]] * (c if o_old else c_new))
    return o * np.tanh(c_new), c_new

peep_o_old = lambda *a: _peep(*a, o_old=True)
peep_rows_fio = lambda *a: _peep(*a, rows=(1, 0, 2))
peep_no_o = lambda *a: _peep(*a[:-1], np.vstack([a[-1][:2], np.zeros_like(a[-1][2:])]))


def cp_from_start(f):
    return np.cumprod(f, axis=0)

def cp_starts_at_one(f):
    return np.vstack([np.ones((1, f.shape[1])), np.cumprod(f[::-1], axis=0)[:-1]])

def cp_reversed_rows(f):
    return np.cumprod(f[::-1], axis=0)[::-1]

def cp_total_only(f):
    return np.prod(f, axis=0)


# ---------------------------------------------------------------- 02
def inv_first_two(d, hist):
    b2, b1 = hist[0], hist[1]
    out = []
    for v in d:
        value = v + 2 * b1 - b2
        out.append(value)
        b2, b1 = b1, value
    return np.array(out)

def inv_not_recursive(d, hist):
    return d + 2 * hist[-1] - hist[-2]

def inv_swapped(d, hist):
    b2, b1 = hist[-2], hist[-1]
    out = []
    for v in d:
        value = v + 2 * b2 - b1
        out.append(value)
        b2, b1 = b1, value
    return np.array(out)

def inv_with_history(d, hist):
    b2, b1 = hist[-2], hist[-1]
    out = [b2, b1]
    for v in d:
        out.append(v + 2 * out[-1] - out[-2])
    return np.array(out)

def inv_list(d, hist):
    b2, b1 = hist[-2], hist[-1]
    out = []
    for v in d:
        value = v + 2 * b1 - b2
        out.append(float(value))
        b2, b1 = b1, value
    return out


def sd_keeps_nan(x, lag):
    if len(x) <= lag:
        raise ValueError
    return x - x.shift(lag)

def sd_lt(x, lag):
    if len(x) < lag:
        raise ValueError
    return (x - x.shift(lag)).iloc[lag:]

def sd_raises_too_early(x, lag):
    if len(x) <= lag + 1:
        raise ValueError
    return (x - x.shift(lag)).iloc[lag:]

def sd_lag_one(x, lag):
    if len(x) <= lag:
        raise ValueError
    return x.diff().iloc[lag:]

def sd_wrong_dates(x, lag):
    if len(x) <= lag:
        raise ValueError
    return pd.Series(x.to_numpy()[lag:] - x.to_numpy()[:-lag], index=x.index[:-lag])

def sd_shift_forward(x, lag):
    if len(x) <= lag:
        raise ValueError
    return (x.shift(-lag) - x).iloc[:-lag]

def sd_array(x, lag):
    if len(x) <= lag:
        raise ValueError
    return x.to_numpy()[lag:] - x.to_numpy()[:-lag]


def pr_simple(r, p0):
    return p0 * np.cumprod(1 + r)

def pr_no_cumsum(r, p0):
    return p0 * np.exp(r)

def pr_with_p0(r, p0):
    return p0 * np.exp(np.concatenate([[0.0], np.cumsum(r)]))

def pr_off_by_one(r, p0):
    return p0 * np.exp(np.concatenate([[0.0], np.cumsum(r)[:-1]]))


def rc_swapped(r, prev):
    return prev[0] * np.exp(np.cumsum(r)), prev * np.exp(r)

def rc_anchor_last(r, prev):
    return prev * np.exp(r), prev[-1] * np.exp(np.cumsum(r))

def rc_one_step_shifted(r, prev):
    one = np.concatenate([[prev[0]], prev[:-1]]) * np.exp(r)
    return one, prev[0] * np.exp(np.cumsum(r))

def rc_recursive_includes_p0(r, prev):
    return prev * np.exp(r), prev[0] * np.exp(np.concatenate([[0.0], np.cumsum(r)[:-1]]))

def rc_simple(r, prev):
    return prev * (1 + r), prev[0] * np.cumprod(1 + r)

def rc_list(r, prev):
    return [prev * np.exp(r), prev[0] * np.exp(np.cumsum(r))]


# ---------------------------------------------------------------- 03
def ema_pandas(x, n):
    return x.ewm(span=n, adjust=False).mean()

def ema_pandas_adjust(x, n):
    return x.ewm(span=n, min_periods=n).mean()

def _ema(x, n, alpha=None, seed_pos=None, seed="mean"):
    v = x.to_numpy(dtype=float)
    a = 2 / (n + 1) if alpha is None else alpha
    out = np.full(len(v), np.nan)
    s = n - 1 if seed_pos is None else seed_pos
    out[s] = v[:n].mean() if seed == "mean" else v[s]
    for t in range(s + 1, len(v)):
        out[t] = a * v[t] + (1 - a) * out[t - 1]
    return pd.Series(out, index=x.index)

ema_seed_at_n = lambda x, n: _ema(x, n, seed_pos=n)
ema_wilder_alpha = lambda x, n: _ema(x, n, alpha=1 / n)
ema_seed_last_value = lambda x, n: _ema(x, n, seed="last")


def rsi_cutler(c, n):
    d = c.diff()
    return 100 - 100 / (1 + d.clip(lower=0).rolling(n).mean() / (-d).clip(lower=0).rolling(n).mean())

def rsi_pandas_ewm(c, n):
    d = c.diff()
    g = d.clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    l = (-d).clip(lower=0).ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    return 100 - 100 / (1 + g / l)

def _rsi(c, n, alpha=None, first_at=None):
    ch = np.diff(c.to_numpy(dtype=float))
    gain, loss = np.clip(ch, 0, None), np.clip(-ch, 0, None)
    out = np.full(len(c), np.nan)
    a = 1 / n if alpha is None else alpha
    start = n if first_at is None else first_at
    g, l = gain[:n].mean(), loss[:n].mean()
    for t in range(start, len(c)):
        if t > start:
            g = (1 - a) * g + a * gain[t - 1]
            l = (1 - a) * l + a * loss[t - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[t] = 100 - 100 / (1 + g / l)
    return pd.Series(out, index=c.index)

rsi_ema_alpha = lambda c, n: _rsi(c, n, alpha=2 / (n + 1))
rsi_one_early = lambda c, n: _rsi(c, n, first_at=n - 1)


def _talib_ema_values(v, n):
    a = 2 / (n + 1)
    out = np.full(len(v), np.nan)
    out[n - 1] = v[:n].mean()
    for t in range(n, len(v)):
        out[t] = a * v[t] + (1 - a) * out[t - 1]
    return out

def sig_ignores_nan(m, n):
    return pd.Series(_talib_ema_values(m.to_numpy(dtype=float), n), index=m.index)

def sig_pandas(m, n):
    return m.ewm(span=n, adjust=False).mean()

def sig_dropped(m, n):
    v = m.dropna()
    return pd.Series(_talib_ema_values(v.to_numpy(), n), index=v.index)

def sig_fill_zero(m, n):
    return pd.Series(_talib_ema_values(m.fillna(0.0).to_numpy(), n), index=m.index)


def bb_ddof1(c, n, k):
    m, s = c.rolling(n).mean(), c.rolling(n).std()
    return pd.DataFrame({"upper": m + k * s, "middle": m, "lower": m - k * s})

def bb_column_order(c, n, k):
    m, s = c.rolling(n).mean(), c.rolling(n).std(ddof=0)
    return pd.DataFrame({"lower": m - k * s, "middle": m, "upper": m + k * s})

def bb_centered(c, n, k):
    m, s = c.rolling(n, center=True).mean(), c.rolling(n, center=True).std(ddof=0)
    return pd.DataFrame({"upper": m + k * s, "middle": m, "lower": m - k * s})

def bb_variance(c, n, k):
    m, s = c.rolling(n).mean(), c.rolling(n).var(ddof=0)
    return pd.DataFrame({"upper": m + k * s, "middle": m, "lower": m - k * s})

def bb_min_periods(c, n, k):
    m, s = c.rolling(n, min_periods=1).mean(), c.rolling(n, min_periods=1).std(ddof=0)
    return pd.DataFrame({"upper": m + k * s, "middle": m, "lower": m - k * s})


def dd_centered(c, n):
    return c / c.rolling(n, center=True).max() - 1

def dd_all_time(c, n):
    out = c / c.cummax() - 1
    out.iloc[:n - 1] = np.nan
    return out

def dd_excludes_today(c, n):
    return c / c.shift(1).rolling(n).max() - 1

def dd_sign(c, n):
    return 1 - c / c.rolling(n).max()

def dd_min_periods(c, n):
    return c / c.rolling(n, min_periods=1).max() - 1

def dd_window_minus_one(c, n):
    out = c / c.rolling(n - 1).max() - 1
    out.iloc[:n - 1] = np.nan
    return out


# ---------------------------------------------------------------- 04
def _win(values, window, horizon, label_shift=0, count_shift=0, raise_if=lambda c: c < 1):
    count = len(values) - window - horizon + 1 + count_shift
    if raise_if(count):
        raise ValueError("too short")
    X = np.array([values[i:i + window] for i in range(count)], dtype=float)
    y = np.array([values[i + window + horizon - 1 + label_shift] for i in range(count)], dtype=float)
    return X, y

win_late_label = lambda v, w, h: _win(v, w, h, label_shift=1, count_shift=-1)
win_early_label = lambda v, w, h: _win(v, w, h, label_shift=-1)
win_one_too_few = lambda v, w, h: _win(v, w, h, count_shift=-1, raise_if=lambda c: c < 0)
win_raises_at_one = lambda v, w, h: _win(v, w, h, raise_if=lambda c: c <= 1)

def win_no_raise(values, window, horizon):
    count = len(values) - window - horizon + 1
    X = np.array([values[i:i + window] for i in range(max(count, 0))], dtype=float).reshape(-1, window)
    y = np.array([values[i + window + horizon - 1] for i in range(max(count, 0))], dtype=float)
    return X, y

def win_label_from_start(values, window, horizon):
    count = len(values) - window - horizon + 1
    if count < 1:
        raise ValueError
    return (np.array([values[i:i + window] for i in range(count)], dtype=float),
            np.array([values[i + horizon - 1 + window - 1] for i in range(count)], dtype=float))


def mm_leaky(train, test):
    both = np.concatenate([train, test])
    return (train - both.min()) / np.ptp(both), (test - both.min()) / np.ptp(both)

def mm_clipped(train, test):
    lo, hi = train.min(), train.max()
    return (train - lo) / (hi - lo), np.clip((test - lo) / (hi - lo), 0, 1)

def mm_separate(train, test):
    return (train - train.min()) / np.ptp(train), (test - test.min()) / np.ptp(test)

def mm_zscore(train, test):
    return (train - train.mean()) / train.std(), (test - train.mean()) / train.std()

def mm_max_only(train, test):
    return train / train.max(), test / train.max()


def _folds(n, splits, size, gap, train_end=lambda s, g: s - g, test_start=None, order=1):
    out = []
    for k in range(splits):
        s = n - (splits - k) * size if test_start is None else test_start(n, splits, size, k)
        out.append((np.arange(0, train_end(s, gap)), np.arange(s, s + size)))
    return out[::order]

wf_gap_minus_one = lambda n, s, t, g: _folds(n, s, t, g, train_end=lambda a, b: a - b - 1)
wf_gap_plus_one = lambda n, s, t, g: _folds(n, s, t, g, train_end=lambda a, b: a - b + 1)
wf_gap_ignored = lambda n, s, t, g: _folds(n, s, t, g, train_end=lambda a, b: a)
wf_newest_first = lambda n, s, t, g: _folds(n, s, t, g, order=-1)
wf_from_start = lambda n, s, t, g: _folds(n, s, t, g, test_start=lambda n, sp, sz, k: (k + 1) * sz)

def wf_generator(n, splits, size, gap):
    for k in range(splits):
        s = n - (splits - k) * size
        yield np.arange(0, s - gap), np.arange(s, s + size)

def wf_sliding(n, splits, size, gap):
    out = []
    for k in range(splits):
        s = n - (splits - k) * size
        first = n - splits * size - gap
        out.append((np.arange(k * size, k * size + first), np.arange(s, s + size)))
    return out

def wf_gap_on_test(n, splits, size, gap):
    out = []
    for k in range(splits):
        s = n - (splits - k) * size
        out.append((np.arange(0, s - gap), np.arange(s + gap, s + size)))
    return out

def wf_lists(n, splits, size, gap):
    return [(list(tr), list(te)) for tr, te in _folds(n, splits, size, gap)]


def iqr_ge(x, k):
    q1, q3 = np.percentile(x, [25, 75])
    return (x <= q1 - k * (q3 - q1)) | (x >= q3 + k * (q3 - q1))

def _iqr_method(method):
    def answer(x, k):
        q1, q3 = np.percentile(x, [25, 75], method=method)
        return (x < q1 - k * (q3 - q1)) | (x > q3 + k * (q3 - q1))
    return answer

def iqr_statistics_exclusive(x, k):
    import statistics
    q1, _, q3 = statistics.quantiles(np.asarray(x, dtype=float), n=4)
    return (x < q1 - k * (q3 - q1)) | (x > q3 + k * (q3 - q1))

def iqr_tukey_hinges(x, k):
    v = np.sort(np.asarray(x, dtype=float))
    half = (len(v) + 1) // 2
    q1, q3 = np.median(v[:half]), np.median(v[len(v) - half:])
    return (x < q1 - k * (q3 - q1)) | (x > q3 + k * (q3 - q1))

def iqr_upper_only(x, k):
    q1, q3 = np.percentile(x, [25, 75])
    return x > q3 + k * (q3 - q1)

def iqr_indices(x, k):
    q1, q3 = np.percentile(x, [25, 75])
    return np.flatnonzero((x < q1 - k * (q3 - q1)) | (x > q3 + k * (q3 - q1)))

def iqr_ints(x, k):
    q1, q3 = np.percentile(x, [25, 75])
    return ((x < q1 - k * (q3 - q1)) | (x > q3 + k * (q3 - q1))).astype(int)

def iqr_std(x, k):
    return np.abs(x - np.mean(x)) > k * np.std(x)


MISTAKES = {  # exercise -> (the mistake, an answer that makes it, a fragment of the hint check() must print)
    "00.1": [("simple returns", lr_simple, "r_t = ln(P_t / P_(t-1))"),
             ("keeps the leading NaN", lr_keeps_nan, "the first date has no return"),
             ("returns an array", lr_array, "keep the Series' dates"),
             ("returns dated on the first day of each pair", lr_first_dates, "the first date has no return"),
             ("refuses only zero prices", lr_only_zero, "A negative price has no logarithm"),
             ("< 0 instead of <= 0", lr_lt_zero, "ln(0) is -inf"),
             ("assert instead of ValueError", lr_assert, "raise ValueError"),
             ("checks the returns for inf only", lr_inf_check, "A negative price has no logarithm")],
    "00.2": [("np.corrcoef of the two slices", ac_corrcoef, "all n deviations"),
             ("denominator over the n - k pairs only", ac_pairs_denominator, "all n deviations"),
             ("each slice centred on its own mean", ac_means_of_slices, "mean of the whole series"),
             ("x[:-lag], empty at lag 0", ac_negative_slice, "x[:-0] is x[:0]"),
             ("mean of products over the variance", ac_mean_ratio, "all n deviations"),
             ("pandas' Series.autocorr", ac_pandas, "all n deviations")],
    "00.3": [("bias-corrected (scipy bias=False)", ku_bias_corrected, "small-sample correction"),
             ("pandas' .kurt()", ku_pandas, "small-sample correction"),
             ("forgot the - 3", ku_no_minus_3, "m4 / m2^2 - 3"),
             ("std with ddof=1", ku_ddof1, "ddof=0 throughout"),
             ("raw instead of central moments", ku_raw_moments, "central moments")],
    "00.4": [("sample std (ddof=1)", tf_ddof1, "ddof=1 gives a wider threshold"),
             (">= instead of >", tf_ge, "use >, not >="),
             ("upper tail only", tf_upper_only, "Count both tails"),
             ("|x| instead of |x - mean|", tf_not_centred, "measured from the mean"),
             ("a count instead of a share", tf_count, "divided by n"),
             ("a percentage", tf_percent, "divided by n"),
             ("k times the variance", tf_variance, "k * std")],
    "01.1": [("[x, h_prev] instead of [h_prev, x]", fg_x_first, "stack h_prev first"),
             ("exp(z) / (1 + exp(z)) overflows", fg_overflowing_sigmoid, "make sure you get no NaN"),
             ("bias left out", fg_no_bias, "+ b_f"),
             ("tanh instead of sigmoid", fg_tanh, "f_t = sigmoid(")],
    "01.2": [("gate blocks read as i, f, o, g", cell_ifog, "i, f, g, o = input, forget"),
             ("gate blocks read as f, i, g, o", cell_fiog, "i, f, g, o = input, forget"),
             ("bias_ih only", cell_ih_bias, "Both biases enter z"),
             ("bias_hh only", cell_hh_bias, "Both biases enter z"),
             ("h = o * c without tanh", cell_no_tanh, "h_t = o tanh(c_t)"),
             ("h from the old cell state", cell_old_c, "h_t = o tanh(c_t)"),
             ("returns (c, h)", cell_swapped, "return (h_t, c_t)")],
    "01.3": [("one bias per gate", pc_one_bias, "two bias vectors"),
             ("input_size in every layer", pc_input_every_layer, "input size is hidden_size"),
             ("no biases", pc_no_bias, "two bias vectors"),
             ("three gates (a GRU)", pc_three_gates, "4h(d + h + 2)")],
    "01.4": [("o looks at the old cell state", peep_o_old, "o looks at the NEW cell state"),
             ("rows p_i and p_f swapped", peep_rows_fio, "row 0 goes into the input gate"),
             ("p_o ignored", peep_no_o, "o looks at the NEW cell state")],
    "01.5": [("product from the first step", cp_from_start, "a cumulative product from the end"),
             ("row 0 is 1, an empty product", cp_starts_at_one, "Row 0 is f_T"),
             ("rows in reverse order", cp_reversed_rows, "rows 0.8, 0.8 * 0.9 = 0.72"),
             ("only the total product", cp_total_only, "Row 0 is f_T")],
    "02.1": [("the first two values of history", inv_first_two, "last two values of history"),
             ("not recursive: always the history", inv_not_recursive, "keep going with the values you rebuild"),
             ("2 x_(t-2) - x_(t-1)", inv_swapped, "-7 + 2 * 10 - 9 = 4"),
             ("the history included in the result", inv_with_history, "without the history"),
             ("a list instead of an array", inv_list, "x_t = d_t + 2 x_(t-1) - x_(t-2)")],
    "02.2": [("keeps the NaN", sd_keeps_nan, "dropped"),
             ("n < lag instead of n <= lag", sd_lt, "With n <= lag"),
             ("raises for n = lag + 1", sd_raises_too_early, "raise only when n <= lag"),
             ("lag ignored (a first difference)", sd_lag_one, "x_t - x_(t-lag)"),
             ("dated on the first values", sd_wrong_dates, "keep the dates"),
             ("shift(-lag): differences forward", sd_shift_forward, "keep the dates"),
             ("an array instead of a Series", sd_array, "keep the dates")],
    "02.3": [("simple-return compounding", pr_simple, "a cumulative sum of the log returns"),
             ("no cumulative sum", pr_no_cumsum, "100 e^0 = 100"),
             ("P_0 included", pr_with_p0, "P_0 itself is not in the result"),
             ("off by one: starts at P_0", pr_off_by_one, "100 e^0.1 = 110.5")],
    "02.4": [("the tuple in the wrong order", rc_swapped, "return them in that order"),
             ("recursive anchored on the last price", rc_anchor_last, "previous_prices[0]"),
             ("one-step on the price before the previous one", rc_one_step_shifted, "previous_prices[t] * exp(r_t)"),
             ("recursive path starting at P_0", rc_recursive_includes_p0, "recursive = (10 e^0.1, 10 e^0.3)"),
             ("simple returns", rc_simple, "one_step = (10 e^0.1, 20 e^0.2)")],
    "03.1": [("pandas ewm(adjust=False)", ema_pandas, "before it, NaN"),
             ("pandas ewm(adjust=True)", ema_pandas_adjust, "the mean of the first n values"),
             ("seeded one step late", ema_seed_at_n, "position n-1"),
             ("alpha = 1/n", ema_wilder_alpha, "alpha = 2 / (n + 1)"),
             ("seeded with x[n-1]", ema_seed_last_value, "the mean of the first n values")],
    "03.2": [("Cutler's rolling-mean RSI", rsi_cutler, "Cutler's RSI"),
             ("pandas ewm from the first change", rsi_pandas_ewm, "pandas' ewm started at the first change"),
             ("alpha = 2/(n+1)", rsi_ema_alpha, "(n - 1) + gain_t) / n"),
             ("first value one day early", rsi_one_early, "days 0-1 NaN")],
    "03.3": [("leading NaN in the seed", sig_ignores_nan, "Skip the leading NaN"),
             ("pandas ewm", sig_pandas, "seed with the mean of the first n valid values"),
             ("the NaN dropped", sig_dropped, "keeps all 7 dates"),
             ("NaN taken as 0", sig_fill_zero, "Skip the leading NaN")],
    "03.4": [("sample std (ddof=1)", bb_ddof1, "pandas' default is ddof=1"),
             ("columns in another order", bb_column_order, "columns upper, middle, lower in that order"),
             ("centred window", bb_centered, "positions 0-1 are NaN"),
             ("k times the variance", bb_variance, "std (ddof=0) = 0.8165"),
             ("min_periods=1", bb_min_periods, "positions 0-1 are NaN")],
    "03.5": [("centred window", dd_centered, "no centred windows"),
             ("all-time high", dd_all_time, "not the all-time high"),
             ("the window excludes day t", dd_excludes_today, "includes day t itself"),
             ("sign flipped", dd_sign, "never a positive number"),
             ("min_periods=1", dd_min_periods, "NaN, NaN, -0.25"),
             ("window of n - 1 days", dd_window_minus_one, "a rolling max over n")],
    "04.1": [("label one step too late", win_late_label, "the window's LAST value"),
             ("label one step too early", win_early_label, "the window's LAST value"),
             ("one window too few", win_one_too_few, "n - window - horizon + 1"),
             ("raises when there is exactly one window", win_raises_at_one, "raise only when there is none"),
             ("no ValueError", win_no_raise, "instead of returning empty arrays"),
             ("label counted from the window's start", win_label_from_start, "the window's LAST value")],
    "04.2": [("scaler fitted on train and test", mm_leaky, "training min and max only"),
             ("test part clipped to [0, 1]", mm_clipped, "do not clip"),
             ("test part scaled on its own", mm_separate, "not its own min and max"),
             ("z-score instead of min-max", mm_zscore, "(x - min_train)"),
             ("divided by the maximum only", mm_max_only, "(x - min_train)")],
    "04.3": [("gap off by one: one position too many left out", wf_gap_minus_one, "the gap drops position 6"),
             ("gap off by one: one position too few", wf_gap_plus_one, "the gap drops position 6"),
             ("gap ignored", wf_gap_ignored, "the gap drops position 6"),
             ("newest fold first", wf_newest_first, "oldest fold first"),
             ("test blocks counted from the start", wf_from_start, "n - (n_splits - k) * test_size"),
             ("a generator instead of a list", wf_generator, "returned a generator"),
             ("sliding instead of expanding training window", wf_sliding, "trains on [0, test start - gap)"),
             ("gap cut from the test block", wf_gap_on_test, "the test block is 7, 8, 9"),
             ("lists instead of arrays", wf_lists, "integer arrays")],
    "04.4": [(">= and <= instead of > and <", iqr_ge, "use < and >, not <= and >="),
             ("np.percentile method='midpoint'", _iqr_method("midpoint"), "default linear method"),
             ("np.percentile method='nearest'", _iqr_method("nearest"), "default linear method"),
             ("np.percentile method='lower'", _iqr_method("lower"), "default linear method"),
             ("np.percentile method='higher'", _iqr_method("higher"), "default linear method"),
             ("np.percentile method='hazen'", _iqr_method("hazen"), "default linear method"),
             ("np.percentile method='weibull'", _iqr_method("weibull"), "default linear method"),
             ("statistics.quantiles (exclusive method)", iqr_statistics_exclusive, "default linear method"),
             ("Tukey's hinges", iqr_tukey_hinges, "default linear method"),
             ("upper fence only", iqr_upper_only, "Both fences count"),
             ("indices instead of a mask", iqr_indices, "Return a boolean array"),
             ("a 0/1 integer array", iqr_ints, "Return a boolean array"),
             ("z-score rule instead of IQR", iqr_std, "x < Q1 - k*IQR")],
}
BANK = [(exercise, mistake, answer, hint) for exercise, items in MISTAKES.items() for mistake, answer, hint in items]


def test_the_banks_cover_every_exercise():
    """This file's bank covers chapters 00-04; later chapters keep theirs in tests/test_checks_chNN.py."""
    import importlib
    banks = dict(MISTAKES)
    for chapter in sorted({exercise_id[:2] for exercise_id in EXERCISE_IDS} - {k[:2] for k in MISTAKES}):
        banks.update(importlib.import_module(f"test_checks_ch{chapter}").MISTAKES)
    assert sorted(banks) == sorted(EXERCISE_IDS)
    assert all(len(items) >= 3 for items in banks.values())


@pytest.mark.parametrize("exercise_id, mistake, answer, hint", BANK, ids=[f"{b[0]} {b[1]}" for b in BANK])
def test_a_plausible_mistake_fails_with_its_hint(exercise_id, mistake, answer, hint, mistake_is_caught):
    mistake_is_caught(exercise_id, mistake, answer, hint)
