"""Chapter 09: real-time prediction, online evaluation, drift detection, trading backtests and an RL agent.

* ``predictor``: :class:`StreamingPredictor` (LSTM state kept, O(1) per bar) and :class:`WindowedPredictor`
  (window re-run, O(W) per bar), bar checks with named errors, latency measurement;
* ``online``: running metrics over all bars and a recent window;
* ``drift``: Page–Hinkley and ADWIN from their definitions, a retraining policy and its replay;
* ``trading``: signals, a next-bar backtest with costs, Sharpe/Sortino/drawdown, the deflated Sharpe ratio;
* ``rl`` (imported on demand: it needs gymnasium and stable-baselines3): a trading environment and a PPO helper.
"""
from course_lib.streaming.drift import ADWIN, PageHinkley, RetrainPolicy, detect_changes, replay_with_retraining
from course_lib.streaming.online import OnlineMetrics, replay_metrics
from course_lib.streaming.predictor import (BarError, DuplicateBarError, MalformedBarError, OutOfOrderBarError,
                                            StreamingPredictor, WindowedPredictor, bar_latencies, latency_summary,
                                            stateful_predictions, windowed_predictions)
from course_lib.streaming.trading import (LookaheadError, backtest, buy_and_hold, compare_strategies,
                                          deflated_sharpe_ratio, max_drawdown, performance, signals_from_forecasts,
                                          sharpe_ratio, sortino_ratio)

__all__ = [
    "StreamingPredictor", "WindowedPredictor", "stateful_predictions", "windowed_predictions", "bar_latencies", "latency_summary",
    "BarError", "OutOfOrderBarError", "DuplicateBarError", "MalformedBarError",
    "OnlineMetrics", "replay_metrics",
    "PageHinkley", "ADWIN", "detect_changes", "RetrainPolicy", "replay_with_retraining",
    "signals_from_forecasts", "backtest", "buy_and_hold", "LookaheadError", "sharpe_ratio", "sortino_ratio",
    "max_drawdown", "performance", "compare_strategies", "deflated_sharpe_ratio",
]
