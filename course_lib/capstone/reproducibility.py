"""Checklist item "reproducible": the same seed gives the same forecasts, another seed other ones.

Called with the outcomes of capstone_forecast(data, h, seed) for seeds ``(a, a, b)``, the second call made with
the global generators seeded differently (``Case.global_seed``). The first pair catches randomness the seed
argument does not control: a seed from the clock, or draws from np.random / torch as the cells run before left
them (rerunning the notebook in another order would give other numbers). The second catches a seed that is
ignored: every seed gives the same forecasts.
"""
from __future__ import annotations

from course_lib.capstone.leakage import changed_dates, result_frame
from course_lib.capstone.plain_frames import NotTheExpectedKind


def check_reproducible(outcomes: list[dict], seeds: tuple[int, int, int]) -> tuple[bool, str]:
    try:
        first, again, other = (result_frame(o, "capstone_forecast") for o in outcomes[:3])
    except NotTheExpectedKind as err:
        return False, str(err)
    noise, _ = changed_dates(first, again, first.index[-1]) if len(first) else ([], "")
    if len(noise) or len(first) == 0:
        return False, (f"two runs with seed={seeds[0]} gave different forecasts (the second with the global "
                       "generators in another state): the forecasts depend on the clock or on np.random / torch "
                       "as earlier code left them; seed every random generator from the seed argument inside "
                       "capstone_forecast (course_lib.environment.seed_everything(seed))")
    moved, _ = changed_dates(first, other, first.index[-1])
    if len(moved) == 0:
        return False, (f"seed={seeds[0]} and seed={seeds[2]} gave the same forecasts: capstone_forecast ignores its "
                       "seed, so its randomness comes from whatever ran before it; seed inside it with "
                       "course_lib.environment.seed_everything(seed) and pass seed to training.fit")
    return True, f"seed={seeds[0]} twice gives the same {len(first)} forecasts; seed={seeds[2]} gives others"
