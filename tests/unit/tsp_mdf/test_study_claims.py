"""The claims the families and policy studies add fail on numbers that miss them."""

import numpy as np

from raylab.methods.tsp_mdf.claims import guided_claims, local_search_claims, policy_claims
from raylab.methods.tsp_mdf.config import PolicyConfig
from raylab.methods.tsp_mdf.family_study import guided_numbers
from raylab.methods.tsp_mdf.policy_study import comparison


def searched(guided: float, seconds: float, plain: float = 5.5, untrained: float = 4.1) -> dict:
    return {
        "eval/field/ls/guided_gap": guided,
        "eval/field/ls/plain_gap": plain,
        "eval/field/ls/untrained_gap": untrained,
        "time/field/guided_ls_s_per_instance": seconds,
    }


def test_guided_local_search_must_beat_both_controls_and_fit_the_time():
    passed = lambda numbers: {c.id: c.passed for c in local_search_claims(numbers, "field", 32)}  # noqa: E731
    assert passed(searched(3.9, 0.2)) == {"ls.gap@field": True, "ls.seconds@field": True}
    # under the 5 % target, but no better than the same K untrained draws with local search
    assert passed(searched(4.1, 0.2)) == {"ls.gap@field": False, "ls.seconds@field": True}
    assert passed(searched(3.0, 0.2, plain=2.9, untrained=3.5))["ls.gap@field"] is False  # plain wins
    assert passed(searched(3.9, 1.5)) == {"ls.gap@field": True, "ls.seconds@field": False}


def test_the_policy_claims_fail_when_it_only_matches_the_best_family():
    best = np.array([[8.0, 9.0, 7.0, 8.5]] * 3)  # (streams, instances) gaps
    ahead = comparison(best - 0.5, best, 3)
    level = comparison(best - np.array([0.1, 0.0, -0.1, 0.05]), best, 3)
    assert ahead["gain"] == 0.5 and ahead["win_share"] == 1.0
    verdict = lambda numbers: {c.id: c.passed for c in policy_claims(numbers, "affine", PolicyConfig())}  # noqa: E731
    assert verdict(ahead) == {"policy.gain": True, "policy.wins": True}
    assert verdict(level) == {"policy.gain": False, "policy.wins": False}


def test_the_guided_claims_fail_on_a_small_gain_or_a_gain_carried_by_few_instances():
    base = np.full((3, 16), 8.0)  # (streams, instances) gaps of the best untrained setting
    verdict = lambda steered: {  # noqa: E731
        c.id: c.passed for c in guided_claims(guided_numbers(base, steered, "field"), "field", 32, 3)
    }
    assert verdict(base - 0.5) == {"guided.gain@field": True, "guided.wins@field": True}
    assert verdict(base - 0.2) == {"guided.gain@field": False, "guided.wins@field": True}
    few = base.copy()
    few[:, :5] -= 2.0  # 2 points on 5 of 16 instances: a 0.63-point mean gain, 5/16 wins
    assert verdict(few) == {"guided.gain@field": True, "guided.wins@field": False}
    assert verdict(base) == {"guided.gain@field": False, "guided.wins@field": False}  # ties are no wins
