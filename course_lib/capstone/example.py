"""The capstone's worked example: a small LSTM that forecasts the S&P 500 five days ahead, checked item by item.

Design (each line is a checklist item of guide §7.5.1):

* inputs: S&P 500 and NASDAQ daily log returns, the S&P volume against its 20-day mean, Wilder's RSI, the
  MACD histogram and Bollinger %b and width (chapter 03's indicators); every value at day t from rows <= t;
* target: the log return over the next ``horizon`` days, $y_t = \\log C_{t+h} - \\log C_t$ (stationary,
  chapter 02); the price forecast is $\\hat C_{t+h} = C_t \\exp(\\hat y_t)$;
* split: the forecast origins in time order, 60 % train, 20 % validation, the rest test, ``horizon``
  origins left out between parts so no training label reaches into validation (chapter 04);
* scaling: z-scores with the training rows' mean and standard deviation only (chapter 04);
* model: one LSTM layer of ``HIDDEN`` units over ``WINDOW`` days, Adam, early stopping on the validation
  loss with the best weights restored (chapter 05);
* interval: split-conformal on the validation residuals divided by the trailing 20-day volatility
  (chapter 07), so the width follows the market's calm and storms; ``LEVEL`` nominal coverage;
* evaluation: MASE of the model, the naive and the drift forecast on the test days, and a Diebold-Mariano
  test of the model against the naive forecast (chapter 06).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from course_lib.capstone.reporting import evaluation_report
from course_lib.capstone.samples import baseline_forecasts, origin_windows, origins_and_targets, trailing_volatility
from course_lib.ensembles.conformal import split_conformal_interval
from course_lib.environment import seed_everything
from course_lib.indicators import build_features as indicator_features
from course_lib.models import LSTMForecaster
from course_lib.preprocessing import Scaler
from course_lib.training import fit, predict
from course_lib.windows import WindowedData, make_loaders

HORIZON, WINDOW, HIDDEN, EPOCHS, PATIENCE, LR, LEVEL = 5, 20, 16, 20, 5, 3e-3, 0.9
SHARES = (0.6, 0.2)          # train, validation; the test part is the rest
VOL_DAYS = 20


def capstone_features(data: pd.DataFrame) -> pd.DataFrame:
    """(n_days - warm-up, 7) model inputs by date; each row uses rows up to its date only."""
    bars = indicator_features(data[["Open", "High", "Low", "Close", "Volume"]], sma_windows=(20,))
    volume = data["Volume"].astype(float)
    features = pd.DataFrame({
        "sp500_return": bars["log_return"],
        "nasdaq_return": np.log(data["NASDAQ_Close"]).diff().loc[bars.index],
        "volume_ratio": np.log(volume / volume.rolling(20).mean()).loc[bars.index],
        "rsi": bars["rsi_14"] / 100,
        "macd_hist": bars["macd_hist"] / bars["close"],
        "bb_percent_b": bars["bb_percent_b"],
        "bb_width": bars["bb_width"],
    })
    return features.dropna()


def capstone_split(n_rows: int, horizon: int) -> dict:
    """Positions 0..n_rows-1 in three blocks in time order, ``horizon`` positions left out between blocks."""
    n_train, n_val = int(n_rows * SHARES[0]), int(n_rows * SHARES[1])
    val_start = n_train + horizon
    test_start = val_start + n_val + horizon
    if test_start >= n_rows:
        raise ValueError(f"{n_rows} rows are too few for three parts with gaps of {horizon}")
    return {"train": list(range(n_train)), "val": list(range(val_start, val_start + n_val)),
            "test": list(range(test_start, n_rows))}


def capstone_forecast(data: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    """Forecasts of the close ``horizon`` days after each test origin, with a conformal interval.

    Returns a frame indexed by origin date with columns forecast, lower, upper (price units).
    """
    return forecast_with(data, horizon, seed)


def forecast_with(data: pd.DataFrame, horizon: int, seed: int, split=capstone_split, features=capstone_features,
                  scaler_rows: str = "train") -> pd.DataFrame:
    """:func:`capstone_forecast` with its parts replaceable, for the lesson's bad example and the tests.

    ``scaler_rows="all"`` fits the scaler on every row, the guide's §5.1.2 leak; "train" (the default) on the
    rows up to the last training origin.
    """
    if scaler_rows not in ("train", "all"):
        raise ValueError(f"scaler_rows must be 'train' or 'all', got {scaler_rows!r}")
    seed_everything(seed)
    table = features(data)
    dates, rows, target = origins_and_targets(data, table, horizon, WINDOW)
    parts = {name: np.asarray(positions) for name, positions in split(len(rows), horizon).items()}
    last_train_row = rows[parts["train"].max()] if scaler_rows == "train" else len(table) - 1
    scaler = Scaler("standard").fit(table.to_numpy()[:last_train_row + 1])
    scaled = scaler.transform(table.to_numpy())
    scale = target[parts["train"]].std()
    sets = {name: (origin_windows(scaled, rows[p], WINDOW), (target[p] / scale).astype(np.float32))
            for name, p in parts.items()}
    dataset = WindowedData(*sets["train"], *sets["val"], *sets["test"], scaler=None, target_column=0,
                           label_index={})
    loaders = make_loaders(dataset, batch_size=64, seed=seed)
    model = LSTMForecaster(table.shape[1], HIDDEN)
    fit(model, loaders["train"], loaders["val"], epochs=EPOCHS, lr=LR, patience=PATIENCE, seed=seed)
    val_pred = predict(model, torch.as_tensor(sets["val"][0])).ravel() * scale
    test_pred = predict(model, torch.as_tensor(sets["test"][0])).ravel() * scale
    sigma = trailing_volatility(data, horizon, VOL_DAYS).loc[dates].to_numpy()
    lower, upper = split_conformal_interval(target[parts["val"]], val_pred, test_pred, alpha=1 - LEVEL,
                                            scale_cal=sigma[parts["val"]], scale_test=sigma[parts["test"]])
    close = data["Close"].loc[dates[parts["test"]]].to_numpy()
    return pd.DataFrame({"forecast": close * np.exp(test_pred), "lower": close * np.exp(lower),
                         "upper": close * np.exp(upper)}, index=dates[parts["test"]])


def capstone_report(data: pd.DataFrame, horizon: int, seed: int) -> dict:
    """The model's test forecasts beside the naive and drift forecasts: :func:`evaluation_report`'s dict."""
    return report_with(data, horizon, seed)


def report_with(data: pd.DataFrame, horizon: int, seed: int, forecast=capstone_forecast, split=capstone_split,
                features=capstone_features) -> dict:
    """:func:`capstone_report` with its parts replaceable (the lesson's bad example, the tests)."""
    forecasts = forecast(data, horizon, seed)
    close = data["Close"].astype(float)
    dates, _, _ = origins_and_targets(data, features(data), horizon, WINDOW)
    train_end = dates[max(split(len(dates), horizon)["train"])]
    ends = close.index.get_indexer(forecasts.index)
    return evaluation_report(close.to_numpy()[ends + horizon], forecasts["forecast"].to_numpy(),
                             baseline_forecasts(data, forecasts.index, horizon), close.loc[:train_end].to_numpy(),
                             horizon, forecasts["lower"].to_numpy(), forecasts["upper"].to_numpy(), LEVEL)
