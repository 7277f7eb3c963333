"""Chapter 09's trading environment: gymnasium's checker, no peek at the future, rewards = the backtest, seeded PPO."""
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

from course_lib.data import geometric_random_walk  # noqa: E402
from course_lib.streaming.rl import TradingEnv, agent_ledger, policy_signals, train_ppo  # noqa: E402
from course_lib.streaming.trading import backtest, buy_and_hold  # noqa: E402

PRICES = geometric_random_walk(300, seed=0, sigma=0.01).to_numpy()


@pytest.mark.parametrize("kwargs", [dict(), dict(long_only=True, cost=0.001),
                                    dict(features=np.random.default_rng(0).normal(size=(300, 2)), episode_length=40,
                                         return_scale=0.01)])
def test_environment_passes_gymnasium_checker_without_warnings(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(TradingEnv(PRICES, window=5, **kwargs), skip_render_check=True)


def rollout(env, actions):
    observations = [env.reset(seed=0)[0]]
    for action in actions:
        observations.append(env.step(action)[0])
    return np.array(observations)


def test_observation_never_changes_when_future_prices_are_rewritten():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(300, 1))
    actions = rng.integers(0, 3, 294)
    base = rollout(TradingEnv(PRICES, window=5, features=features), actions)
    for bar in (5, 6, 50, 200, 298):
        future = PRICES.copy()
        future[bar + 1:] = rng.uniform(50, 150, len(future) - bar - 1)
        other_features = features.copy()
        other_features[bar + 1:] = rng.normal(size=(300 - bar - 1, 1))
        again = rollout(TradingEnv(future, window=5, features=other_features), actions)
        seen = bar - 5 + 1                              # observations made at bars 5 .. bar
        np.testing.assert_array_equal(again[:seen], base[:seen])
        assert not np.array_equal(again[seen], base[seen])      # the probe would see a change one bar later


def test_rewards_are_the_backtest_of_the_decisions():
    env = TradingEnv(PRICES, window=5, cost=0.001, slippage=0.0005)
    actions = np.random.default_rng(2).integers(0, 3, 294)
    env.reset(seed=0)
    rewards, decisions = [], []
    for action in actions:
        _, reward, terminated, truncated, _ = env.step(action)
        rewards.append(reward)
        decisions.append(env.position)
    assert terminated and not truncated
    r = PRICES[1:] / PRICES[:-1] - 1                          # r[j] = return of bar j + 1
    signals = np.zeros(len(r))
    signals[4:4 + len(decisions)] = decisions                                   # decision at bar t is the signal of returns index t - 1
    ledger = backtest(r, signals, cost=0.001, slippage=0.0005)
    np.testing.assert_allclose(rewards, ledger["net"].to_numpy()[5:], atol=1e-15)


class ScriptedAgent:
    """Stands in for a trained model: replays fixed actions through ``predict`` (the stable-baselines3 interface)."""

    def __init__(self, actions):
        self.actions = iter(actions)

    def predict(self, observation, deterministic=True):
        return next(self.actions), None


def test_agent_ledger_is_the_backtest_of_the_decisions_on_the_bars_it_can_hold():
    prices = pd.Series(PRICES, index=pd.bdate_range("2015-01-01", periods=len(PRICES)))
    env = TradingEnv(prices, window=5, cost=0.002)
    actions = np.random.default_rng(3).integers(0, 3, 294)
    decisions = policy_signals(ScriptedAgent(actions), env)
    assert list(decisions.index) == list(range(5, 299))
    np.testing.assert_array_equal(decisions["signal"], np.array([-1.0, 0.0, 1.0])[actions])
    ledger = agent_ledger(ScriptedAgent(actions), env)
    assert ledger.index[0] == prices.index[6] and ledger.index[-1] == prices.index[-1]
    np.testing.assert_allclose(ledger["net"], decisions["reward"], atol=1e-15)
    hold = buy_and_hold(prices.pct_change().loc[ledger.index], cost=0.002)
    assert hold.index.equals(ledger.index)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="features has"):
        TradingEnv(PRICES, features=np.zeros((10, 1)))
    with pytest.raises(ValueError, match="episode_length"):
        TradingEnv(PRICES, window=5, episode_length=1000)
    with pytest.raises(ValueError, match="positive"):
        TradingEnv(-PRICES)
    env = TradingEnv(PRICES)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(3)
    env = TradingEnv(PRICES[:8], window=5)
    env.reset(seed=0)
    assert [env.step(1)[2] for _ in range(2)] == [False, True]          # bars 5 -> 6 -> 7, the last
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)



def test_seeded_ppo_is_reproducible_on_cpu(one_torch_thread):
    tiny = dict(total_timesteps=128, n_steps=64, batch_size=32, n_epochs=2)
    runs = [train_ppo(TradingEnv(PRICES[:150], window=5, episode_length=50), seed=3, **tiny) for _ in range(2)]
    test_env = TradingEnv(PRICES[150:], window=5)
    first, second = (policy_signals(model, test_env) for model in runs)
    assert len(first) == 150 - 1 - 5
    np.testing.assert_array_equal(first["signal"], second["signal"])
    for a, b in zip(runs[0].policy.parameters(), runs[1].policy.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    untrained = train_ppo(TradingEnv(PRICES[:150], window=5, episode_length=50), seed=4, **tiny)
    assert any(not np.array_equal(a.detach().numpy(), b.detach().numpy())
               for a, b in zip(runs[0].policy.parameters(), untrained.policy.parameters()))
