"""course_lib.data: embedded datasets, load_csv and its bad-input errors, synthetic series."""
import numpy as np
import pandas as pd
import pytest
from arch.data import nasdaq as arch_nasdaq
from arch.data import sp500 as arch_sp500

from course_lib import data
from course_lib.data import DataValidationError

GOOD_ROWS = [
    "Date,Open,High,Low,Close,Volume",
    "2020-01-02,10.0,11.0,9.5,10.5,1000",
    "2020-01-03,10.5,10.8,10.1,10.2,1200",
    "2020-01-06,10.2,10.9,10.0,10.7,900",
]


def write_csv(tmp_path, lines, name="prices.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def with_row(row_number, new_row):
    lines = list(GOOD_ROWS)
    lines[row_number] = new_row
    return lines


# ----------------------------------------------------------------------------- embedded data
@pytest.mark.parametrize("loader, reference", [(data.load_sp500, arch_sp500), (data.load_nasdaq, arch_nasdaq)])
def test_embedded_data_is_arch_data_unchanged(loader, reference):
    frame = loader()
    expected = reference.load()
    assert frame.shape == (5031, 6)
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "Date"
    assert frame.index[0] == pd.Timestamp("1999-01-04") and frame.index[-1] == pd.Timestamp("2018-12-31")
    assert {"Open", "High", "Low", "Close", "Volume"} <= set(frame.columns)
    pd.testing.assert_frame_equal(frame, expected, check_names=False)


def test_loaders_return_independent_copies():
    first = data.load_sp500()
    first.iloc[0, 0] = -1.0
    assert data.load_sp500().iloc[0, 0] > 0


# ----------------------------------------------------------------------------- load_csv
def test_load_csv_reads_a_good_file(tmp_path):
    frame = data.load_csv(write_csv(tmp_path, GOOD_ROWS))
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert frame.index.equals(pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"], name="Date"))
    assert frame["Close"].tolist() == [10.5, 10.2, 10.7]
    assert frame.dtypes.eq(np.float64).all()


def test_load_csv_keeps_extra_columns(tmp_path):
    lines = [GOOD_ROWS[0] + ",Adj Close,Ticker"] + [row + f",{i}.0,ABC" for i, row in enumerate(GOOD_ROWS[1:])]
    frame = data.load_csv(write_csv(tmp_path, lines))
    assert frame["Adj Close"].tolist() == [0.0, 1.0, 2.0]
    assert frame["Ticker"].tolist() == ["ABC"] * 3


def test_load_csv_round_trips_the_sp500(tmp_path, sp500):
    path = tmp_path / "sp500.csv"
    sp500.to_csv(path)
    loaded = data.load_csv(path)
    pd.testing.assert_frame_equal(loaded, sp500.astype({"Volume": "float64"}), check_index_type=False,
                                  check_freq=False)


def test_load_csv_with_a_date_format(tmp_path):
    lines = [GOOD_ROWS[0], "02/01/2020,10,11,9,10,5", "03/01/2020,10,11,9,10,5"]
    frame = data.load_csv(write_csv(tmp_path, lines), date_format="%d/%m/%Y")
    assert frame.index[1] == pd.Timestamp("2020-01-03")


@pytest.mark.parametrize("lines, message", [
    ([], "empty"),
    ([GOOD_ROWS[0]], "no data rows"),
    ([GOOD_ROWS[0].replace(",Close", ",Price")] + GOOD_ROWS[1:], "missing column 'Close'"),
    ([GOOD_ROWS[0].replace(",Close", ",close")] + GOOD_ROWS[1:], "found 'close'"),
    ([GOOD_ROWS[0].replace("Date", "Day")] + GOOD_ROWS[1:], "missing column 'Date'"),
    (with_row(2, "not-a-date,10.5,10.8,10.1,10.2,1200"), "not a date, 'not-a-date' at line 3"),
    (with_row(3, "2020-01-03,10.2,10.9,10.0,10.7,900"), "duplicated date 2020-01-03"),
    (with_row(3, "2020-01-01,10.2,10.9,10.0,10.7,900"), "not sorted: 2020-01-01"),
    (with_row(2, "2020-01-03,10.5,10.8,10.1,,1200"), "column 'Close' has 1 missing value(s) (NaN or empty), first at line 3"),
    (with_row(2, "2020-01-03,10.5,10.8,10.1,NaN,1200"), "column 'Close' has 1 missing value"),
    (with_row(1, "2020-01-02,10.0,11.0,9.5,ten,1000"), "non-numeric value 'ten' at line 2"),
    (with_row(1, "2020-01-02,0,11.0,9.5,10.5,1000"), "'Open' has a non-positive price on 2020-01-02"),
    (with_row(3, "2020-01-06,10.2,10.9,-10.0,10.7,900"), "'Low' has a non-positive price on 2020-01-06"),
    (with_row(1, "2020-01-02,10.0,11.0,9.5,10.5,-5"), "negative volume"),
    (with_row(1, "2020-01-02,10.0,9.0,9.5,9.2,1000"), "Low above High"),
    (with_row(1, "2020-01-02,12.0,11.0,9.5,10.5,1000"), "Open outside [Low, High]"),
])
def test_load_csv_rejects_bad_files_with_a_clear_message(tmp_path, lines, message):
    with pytest.raises(DataValidationError) as caught:
        data.load_csv(write_csv(tmp_path, lines))
    assert message in str(caught.value)
    assert "prices.csv" in str(caught.value)


def test_load_csv_names_unsorted_dates(tmp_path):
    lines = GOOD_ROWS[:1] + [GOOD_ROWS[2], GOOD_ROWS[1], GOOD_ROWS[3]]
    with pytest.raises(data.UnsortedDatesError, match=r"not sorted: 2020-01-02 \(row 1, line 3 of a CSV\) comes "
                                                      r"after 2020-01-03"):
        data.load_csv(write_csv(tmp_path, lines))


def test_load_csv_names_a_gap_in_the_dates(tmp_path):
    lines = GOOD_ROWS + ["2020-01-20,10.7,11.0,10.5,10.9,800", "2020-01-21,10.9,11.2,10.8,11.0,700"]
    with pytest.raises(data.DateGapError, match=r"gap in the dates: 14 days from 2020-01-06 to 2020-01-20 "
                                                r"\(lines 4-5\), more than max_gap_days=7; 1 such gap"):
        data.load_csv(write_csv(tmp_path, lines))
    assert issubclass(data.DateGapError, DataValidationError) and issubclass(data.UnsortedDatesError,
                                                                              DataValidationError)
    assert len(data.load_csv(write_csv(tmp_path, lines), max_gap_days=None)) == 5
    assert len(data.load_csv(write_csv(tmp_path, lines), max_gap_days=14)) == 5


def test_load_csv_accepts_the_longest_market_closure_of_the_embedded_data(tmp_path, sp500):
    """2001-09-10 to 2001-09-17 (7 calendar days) is the longest step between S&P 500 rows; the default allows it."""
    steps = np.diff(sp500.index.to_numpy().astype("datetime64[D]").astype(np.int64))
    assert steps.max() == 7 and sp500.index[int(np.argmax(steps)) + 1] == pd.Timestamp("2001-09-17")
    path = tmp_path / "sp500.csv"
    sp500.loc["2001-09-01":"2001-09-30"].to_csv(path)
    assert len(data.load_csv(path)) == len(sp500.loc["2001-09-01":"2001-09-30"])


def test_load_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.load_csv(tmp_path / "nope.csv")


def test_validate_ohlcv_rejects_a_frame_without_dates(sp500):
    with pytest.raises(DataValidationError, match="DatetimeIndex"):
        data.validate_ohlcv(sp500.reset_index())


def test_validate_ohlcv_rejects_non_numeric_columns(sp500):
    broken = sp500.astype({"Volume": str})
    with pytest.raises(DataValidationError, match="'Volume' must be numeric"):
        data.validate_ohlcv(broken)


# ----------------------------------------------------------------------------- synthetic series
@pytest.mark.parametrize("make", [
    lambda seed: data.random_walk(300, seed=seed),
    lambda seed: data.geometric_random_walk(300, seed=seed),
    lambda seed: data.ar1(300, phi=0.5, seed=seed),
    lambda seed: data.sine_with_noise(300, seed=seed),
])
def test_synthetic_series_are_deterministic_and_seeded(make):
    pd.testing.assert_series_equal(make(1), make(1))
    assert not make(1).equals(make(2))
    series = make(1)
    assert len(series) == 300 and isinstance(series.index, pd.DatetimeIndex) and not series.isna().any()


def test_geometric_random_walk_is_positive_with_the_requested_log_returns():
    prices = data.geometric_random_walk(20_000, seed=0, mu=0.001, sigma=0.02)
    r = np.diff(np.log(prices.to_numpy()))
    assert (prices > 0).all()
    assert r.mean() == pytest.approx(0.001, abs=4 * 0.02 / np.sqrt(len(r)))
    assert r.std() == pytest.approx(0.02, rel=0.03)


def test_ar1_has_the_requested_autocorrelation():
    from statsmodels.tsa.stattools import acf
    x = data.ar1(20_000, phi=0.7, seed=0)
    assert acf(x, nlags=2)[1:] == pytest.approx([0.7, 0.49], abs=0.03)


def test_sine_with_noise_without_noise_is_the_sine():
    x = data.sine_with_noise(40, period=20, amplitude=2.0, noise=0.0)
    assert x.to_numpy() == pytest.approx(2.0 * np.sin(2 * np.pi * np.arange(40) / 20))


@pytest.mark.parametrize("call, message", [
    (lambda: data.ar1(10, phi=1.0), "stationary"),
    (lambda: data.random_walk(0), "at least 1"),
    (lambda: data.sine_with_noise(10, period=0), "period"),
])
def test_synthetic_series_reject_bad_parameters(call, message):
    with pytest.raises(ValueError, match=message):
        call()
