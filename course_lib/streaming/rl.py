"""Reinforcement learning for trading (guide §7.3.3, problem 5): a gymnasium environment and a brief PPO agent.

:class:`TradingEnv` replays a price series. At bar $t$ (after its close) the agent sees only the past: the last
``window`` simple returns $r_{t-w+1}, \\dots, r_t$ (divided by ``return_scale``), optional extra features of bar $t$
(e.g. an LSTM's forecast made at that close) and its current position. It picks a position for the NEXT bar,
$p_{t+1} \\in \\{-1, 0, 1\\}$ (``long_only``: $\\{0, 1\\}$), and is paid that bar's net return, the backtest's
:func:`course_lib.streaming.trading.bar_pnl`::

    reward = p_(t+1) r_(t+1) - (cost + slippage) |p_(t+1) - p_t|

so summed rewards and :func:`course_lib.streaming.trading.backtest` of the agent's decisions (as signals, delay 1)
are the same numbers. The episode ends at the last bar (``terminated``) or after ``episode_length`` steps from a
random start (``truncated``; for training on varied stretches).

:func:`train_ppo` trains stable-baselines3's PPO briefly on the CPU with a fixed seed; :func:`policy_signals` runs
the trained policy deterministically over an environment (use a held-out period) to get its decisions, and
:func:`agent_ledger` turns them into the backtest's ledger, to set beside buy-and-hold and the forecast rule.
"""
from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium import spaces

from course_lib.differencing import simple_returns
from course_lib.streaming.trading import backtest, bar_pnl
from course_lib.validation import as_1d_float, as_2d_float, positive_int


class TradingEnv(gym.Env):
    """One asset, positions in {-1, 0, 1} (or {0, 1}), observation = past returns [+ features] + position.

    ``prices`` (n,) positive; ``features`` (n, k) with row t known at the close of bar t (the environment cannot
    check that: build them from data up to t only). Observation shape (window + k + 1,), float32.
    """

    metadata = {"render_modes": []}

    def __init__(self, prices, window: int = 10, features=None, cost: float = 0.0, slippage: float = 0.0,
                 long_only: bool = False, return_scale: float = 1.0, episode_length: int | None = None):
        super().__init__()
        self.window = positive_int(window, "window")
        self.index = prices.index if isinstance(prices, pd.Series) else pd.RangeIndex(len(prices))
        self.returns = np.concatenate([[np.nan], simple_returns(as_1d_float(prices, "prices", self.window + 2))])
        n = len(self.returns)                                       # returns[t] = P_t / P_(t-1) - 1, t >= 1
        self.features = np.zeros((n, 0)) if features is None else as_2d_float(features, "features")
        if len(self.features) != n:
            raise ValueError(f"features has {len(self.features)} rows but prices has {n}: one row per bar")
        if not (cost >= 0 and slippage >= 0 and return_scale > 0):
            raise ValueError("cost and slippage must be >= 0 and return_scale > 0")
        self.cost_rate, self.return_scale = cost + slippage, float(return_scale)
        self.episode_length = None if episode_length is None else positive_int(episode_length, "episode_length")
        if self.episode_length is not None and self.episode_length > n - 1 - self.window:
            raise ValueError(f"episode_length {self.episode_length} is longer than the {n - 1 - self.window} steps "
                             "the prices allow")
        self.positions = np.array([0.0, 1.0]) if long_only else np.array([-1.0, 0.0, 1.0])
        self.action_space = spaces.Discrete(len(self.positions))
        size = self.window + self.features.shape[1] + 1
        bound = np.finfo(np.float32).max                            # finite, so the checker does not warn
        self.observation_space = spaces.Box(-bound, bound, shape=(size,), dtype=np.float32)
        self.t, self.position, self.steps = self.window, 0.0, 0

    @property
    def first_bar(self) -> int:
        """The first bar at which a decision is made (``window`` returns are known from bar ``window`` on)."""
        return self.window

    def observation(self) -> np.ndarray:
        """At bar t: r_(t-w+1..t) / return_scale, features[t], position. Nothing after bar t."""
        past = self.returns[self.t - self.window + 1:self.t + 1] / self.return_scale
        return np.concatenate([past, self.features[self.t], [self.position]]).astype(np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        last_start = len(self.returns) - 1 - (self.episode_length or 0)
        self.t = self.window if self.episode_length is None else int(self.np_random.integers(self.window,
                                                                                             last_start + 1))
        self.position, self.steps = 0.0, 0
        return self.observation(), {"bar": self.t}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not in {self.action_space}")
        if self.t >= len(self.returns) - 1:
            raise RuntimeError("the episode is over (last bar reached): call reset()")
        new_position = float(self.positions[int(action)])
        asset_return = self.returns[self.t + 1]                     # the next bar: revealed only after the decision
        reward = float(bar_pnl(new_position, self.position, asset_return, self.cost_rate))
        self.t, self.position, self.steps = self.t + 1, new_position, self.steps + 1
        terminated = self.t == len(self.returns) - 1
        truncated = self.episode_length is not None and self.steps >= self.episode_length and not terminated
        return self.observation(), reward, terminated, truncated, {"bar": self.t, "asset_return": asset_return}


def train_ppo(env: TradingEnv, total_timesteps: int = 2048, seed: int = 0, **ppo_kwargs):
    """A stable-baselines3 PPO agent (MLP policy) trained for ``total_timesteps`` steps on the CPU, seeded.

    Small defaults so that a lesson's run takes seconds: n_steps=256, batch_size=64, n_epochs=4, a 32x32 network.
    Same seed, same environment, same torch thread count: the same agent.
    """
    from stable_baselines3 import PPO

    options = {"n_steps": 256, "batch_size": 64, "n_epochs": 4, "learning_rate": 3e-4, "gamma": 0.99,
               "policy_kwargs": {"net_arch": [32, 32]}, "verbose": 0} | ppo_kwargs
    model = PPO("MlpPolicy", env, seed=seed, device="cpu", **options)
    return model.learn(total_timesteps=positive_int(total_timesteps, "total_timesteps"))


def policy_signals(model, env: TradingEnv) -> pd.DataFrame:
    """Run ``model``'s deterministic policy over ``env`` from its first bar to its last (``episode_length`` ignored).

    One row per decision bar t (positions ``env.first_bar`` .. n-2): ``signal`` (the position chosen for bar t+1)
    and ``reward`` (the env's).
    """
    length, env.episode_length = env.episode_length, None
    try:
        observation, info = env.reset(seed=0)
        rows, done = [], False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            bar = env.t
            observation, reward, terminated, truncated, _ = env.step(int(action))
            rows.append({"bar": bar, "signal": env.position, "reward": reward})
            done = terminated or truncated
    finally:
        env.episode_length = length
    return pd.DataFrame(rows).set_index("bar")


def agent_ledger(model, env: TradingEnv) -> pd.DataFrame:
    """The agent's backtest over bars ``env.first_bar + 1`` .. n-1 (the bars it can hold), with the environment's costs:
    :func:`course_lib.streaming.trading.backtest` of its decisions, delay 1. Its ``net`` column equals the rewards;
    compare with ``buy_and_hold`` of the same bars' returns."""
    decisions = policy_signals(model, env)["signal"].to_numpy()
    first = env.first_bar
    returns = pd.Series(env.returns[first:], index=env.index[first:])          # bars first .. n-1
    ledger = backtest(returns, np.r_[decisions, 0.0], cost=env.cost_rate)      # the last bar's signal is never held
    return ledger.iloc[1:]
