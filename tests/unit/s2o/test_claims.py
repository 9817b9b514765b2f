"""The S2O claims fail on runs where the statement is false (fabricated final metrics)."""

from raylab.methods.s2o import claims


def final(**values) -> dict:
    base = {"clean": 0.9, "clean_points": 0.9, "pgd20": 0.6, "aa": 0.58, "logit_corr": 3.0, "weight_cos": 2.0}
    base.update({"pgd20_eps0": 0.9, "pgd20_eps0.1": 0.6, "pgd20_eps0.2": 0.3})
    return {**base, **values}


def by_id(found) -> dict:
    return {c.id: c for c in found}


def test_attack_claims_catch_train_mode_rising_accuracy_and_aa_above_pgd():
    grid = [0.0, 0.1, 0.2]
    assert all(c.passed for c in claims.attack_claims({"at": [final()]}, grid))
    bad = by_id(
        claims.attack_claims({"at": [final(pgd20_eps0=0.85, **{"pgd20_eps0.2": 0.7}, aa=0.62)]}, grid)
    )
    assert not bad["attack.eps0_is_clean"].passed and not bad["attack.monotone_eps"].passed
    assert not bad["attack.aa_le_pgd"].passed
    # PGD at eps 0 returns x by construction: a broken implementation shows, but it is no evidence
    assert {c.id: c.kind for c in bad.values()} == {
        "attack.eps0_is_clean": "invariant",
        "attack.monotone_eps": "claim",
        "attack.aa_le_pgd": "claim",
    }


def test_pair_claims_fail_in_any_replicate_and_on_a_mean_accuracy_loss():
    good = by_id(
        claims.pair_claims({"at": [final(), final()], "at_s2o": [final(logit_corr=2.5, weight_cos=1.5)] * 2})
    )
    assert all(c.passed for c in good.values()) and set(good) == {
        "mechanism.logit_corr@at",
        "mechanism.weight_cos@at",
        "noninferior.clean@at",
        "noninferior.pgd20@at",
    }
    twin = [
        final(logit_corr=2.5, weight_cos=1.5, clean=0.87),
        final(logit_corr=3.1, weight_cos=1.5, clean=0.87),
    ]
    bad = by_id(claims.pair_claims({"at": [final(), final()], "at_s2o": twin}))
    assert not bad["mechanism.logit_corr@at"].passed  # replicate 1 rose
    assert bad["mechanism.weight_cos@at"].passed
    assert not bad["noninferior.clean@at"].passed  # -3 points


def test_trades_floor_only_where_it_was_set():
    finals = {"trades": [final(pgd20=0.45)], "trades_s2o": [final(pgd20=0.35)]}
    (floor,) = claims.trades_claims(finals, "mnist5k", 0.1)
    assert not floor.passed and floor.value == 0.35
    assert claims.trades_claims(finals, "cifar10", 0.031) == []
