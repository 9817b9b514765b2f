"""Each ABAW claim fails on a run that does not show the effect; the invariants fail on broken output."""

import numpy as np

from raylab.methods.abaw import claims, layout


def arm(full, no_visual):
    return {"val/f1": full, "val_no_visual/f1": no_visual}


def by_id(found):
    return {c.id: c for c in found}


def test_dropout_claims_pass_and_fail_on_the_margins():
    good = {
        "dropout": [arm(0.70, 0.60), arm(0.70, 0.58)],
        "no_dropout": [arm(0.70, 0.55), arm(0.70, 0.54)],
        "audio_only": [arm(0.60, 0.62), arm(0.60, 0.60)],
    }
    passed = by_id(claims.dropout_claims(good))
    assert passed["dropout_smaller_drop"].passed and passed["dropout_audio_fallback"].passed
    same = dict(good, no_dropout=good["dropout"], audio_only=[arm(0.8, 0.9), arm(0.8, 0.9)])
    failed = by_id(claims.dropout_claims(same))
    assert not failed["dropout_smaller_drop"].passed and not failed["dropout_audio_fallback"].passed


def test_voting_claims_fail_without_fewer_flips_or_with_lost_f1():
    ok = by_id(claims.voting_claims([6.0, 5.0], [1.5, 1.2], [0.70, 0.60], [0.70, 0.61]))
    assert ok["vote_cuts_flips"].passed and ok["vote_keeps_f1"].passed
    bad = by_id(claims.voting_claims([6.0, 5.0], [4.0, 1.0], [0.70, 0.60], [0.66, 0.61]))
    assert not bad["vote_cuts_flips"].passed and not bad["vote_keeps_f1"].passed
    assert not claims.impulsive_claim([0.6, 0.6], [0.6, 0.6]).passed
    assert claims.impulsive_claim([0.6, 0.6], [0.61, 0.6]).passed


def video(name, frames):
    zeros = np.zeros((frames, 2), np.float32)
    return layout.Video(
        name, zeros, np.ones(frames, bool), zeros, np.ones(frames, bool), np.arange(frames) % 8
    )


def test_an_incomplete_submission_breaks_the_invariant(tmp_path):
    videos = [video("a", 5), video("b", 4)]
    path = tmp_path / "submission.csv"
    layout.write_submission(path, {"a": np.zeros(5, int), "b": np.zeros(3, int)})
    found = by_id(claims.format_invariants(videos, path))
    assert found["format_roundtrip"].passed
    assert not found["submission_complete"].passed and found["submission_complete"].value == 1


def test_the_metric_invariant_detects_a_wrong_metric(monkeypatch):
    videos = [video("a", 40)]
    predictions = [np.random.default_rng(0).integers(0, 8, 40)]
    assert claims.metric_invariant(videos, predictions).passed
    monkeypatch.setattr(claims.metrics, "macro_f1", lambda y, p: float(np.mean(y == p)))
    assert not claims.metric_invariant(videos, predictions).passed


def test_the_audio_fallback_is_judged_against_the_no_dropout_control():
    """Both models keep >= 0.8 of the audio-only F1 without video (the old absolute bound passed on
    the control too); the claim fails unless dropout keeps more than no dropout does."""
    audio = [arm(0.60, 0.60), arm(0.60, 0.60)]
    control_as_good = {
        "dropout": [arm(0.70, 0.57), arm(0.70, 0.55)],
        "no_dropout": [arm(0.70, 0.58), arm(0.70, 0.56)],
        "audio_only": audio,
    }
    assert not by_id(claims.dropout_claims(control_as_good))["dropout_audio_fallback"].passed
    dropout_ahead = dict(control_as_good, no_dropout=[arm(0.70, 0.50), arm(0.70, 0.52)])
    verdict = by_id(claims.dropout_claims(dropout_ahead))["dropout_audio_fallback"]
    assert verdict.passed and abs(verdict.value - (0.07 + 0.03) / 2 / 0.60) < 1e-12  # mean share gained
