"""Resuming from a truncated or corrupt checkpoint falls back to the newest readable one, or starts
over, and says which in one warning: run checkpoints (tsp_mdf, PAR, S2O), Tune trials, Ray Train."""

import pickle

from raylab.context import Checkpointer, restore_state


def saved_steps(tmp_path, steps=(1, 2, 3)) -> Checkpointer:
    checkpointer = Checkpointer(tmp_path)
    for step in steps:
        checkpointer.save({"weights": [float(step)]}, step)
    return checkpointer


def state_file(tmp_path, step):
    return tmp_path / "checkpoints" / f"step_{step:08d}" / "state.pkl"


def test_a_truncated_newest_checkpoint_falls_back_to_the_one_before(tmp_path, caplog):
    checkpointer = saved_steps(tmp_path)
    newest = state_file(tmp_path, 3)
    newest.write_bytes(newest.read_bytes()[:20])
    assert checkpointer.load_latest() == (2, {"weights": [2.0]})
    assert f"checkpoint {newest} is unreadable" in caplog.text
    assert f"resuming from {state_file(tmp_path, 2)} (step 2), the newest readable checkpoint" in caplog.text


def test_when_no_checkpoint_is_readable_the_run_starts_over_and_says_so(tmp_path, caplog):
    checkpointer = saved_steps(tmp_path, steps=(1, 2))
    state_file(tmp_path, 2).write_bytes(b"\x80\x05garbage")
    state_file(tmp_path, 1).write_bytes(pickle.dumps(["not", "a", "checkpoint"]))
    assert checkpointer.load_latest() is None
    assert f"checkpoint {state_file(tmp_path, 1)} holds no step and state" in caplog.text
    assert f"no readable checkpoint in {tmp_path / 'checkpoints'}: starting over" in caplog.text


def test_an_intact_folder_resumes_from_its_newest_checkpoint_without_a_warning(tmp_path, caplog):
    assert saved_steps(tmp_path).load_latest() == (3, {"weights": [3.0]})
    assert caplog.text == ""


def test_a_run_resumed_over_a_corrupt_checkpoint_ends_as_an_uninterrupted_run(tmp_path):
    """PAR's offline loop (as tsp_mdf's and S2O's, through the same Checkpointer): the newest
    checkpoint truncated, the run resumes from the one before and ends with the same numbers."""
    from tests.unit.par.test_offline import run, small

    straight = run(small(checkpoint_every=100), tmp_path / "straight")
    resumed = tmp_path / "resumed"
    run(small(checkpoint_every=100), resumed)
    newest = state_file(resumed, 300)
    newest.write_bytes(newest.read_bytes()[:100])
    (resumed / "result.json").unlink()
    again = run(small(checkpoint_every=100), resumed)
    assert again.status == "ok", again.error
    assert again.metrics == straight.metrics


def ray_checkpoint(folder, payload: bytes):
    from ray.train import Checkpoint

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "state.pkl").write_bytes(payload)
    return Checkpoint.from_directory(str(folder))


def test_a_damaged_ray_train_checkpoint_is_named_and_the_worker_starts_over(tmp_path, caplog):
    good = ray_checkpoint(tmp_path / "good", pickle.dumps({"epoch": 4}))
    assert restore_state(good) == {"epoch": 4}
    assert restore_state(ray_checkpoint(tmp_path / "bad", b"\x80\x05\x95")) is None
    assert f"checkpoint {tmp_path / 'bad' / 'state.pkl'} is unreadable" in caplog.text


def test_a_tune_trial_restored_from_a_damaged_checkpoint_uses_its_own_newest_readable_one(
    tmp_path, monkeypatch
):
    from ray import tune

    from raylab.runtime.tune import TuneCheckpointer

    trial = tmp_path / "trial"
    saved_steps(trial, steps=(1, 2))
    damaged = ray_checkpoint(tmp_path / "restored", pickle.dumps({"step": 5, "state": {}})[:-4])
    monkeypatch.setattr(tune, "get_checkpoint", lambda: damaged)
    assert TuneCheckpointer(trial).load_latest() == (2, {"weights": [2.0]})

    intact = ray_checkpoint(tmp_path / "intact", pickle.dumps({"step": 5, "state": {"weights": [5.0]}}))
    monkeypatch.setattr(tune, "get_checkpoint", lambda: intact)
    assert TuneCheckpointer(trial).load_latest() == (5, {"weights": [5.0]})
