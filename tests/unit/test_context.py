import json
from pathlib import Path

import pytest

from raylab import RaylabError
from raylab.context import Checkpointer, ItemError, RunContext, SerialMapper, call_item
from raylab.seeding import derive_seed


def square_plus_seed(item):
    value, seed = item
    return value * value + seed


def explode_on_three(item):
    if item == 3:
        raise ValueError("bad item")
    return item


def test_serial_map_keeps_item_order():
    items = [(v, derive_seed(9, "sq", k)) for k, v in enumerate([3, 1, 2])]
    out = SerialMapper(progress=False).map(square_plus_seed, items, name="sq")
    assert out == [v * v + seed for v, seed in items]


def test_failing_item_is_named():
    with pytest.raises(ItemError, match=r"pick: item 3 3 failed: ValueError: bad item"):
        SerialMapper(progress=False).map(explode_on_three, [0, 1, 2, 3], name="pick")


def test_call_item_passes_shared_only_when_given():
    assert call_item(lambda x, shared: x + shared, 1, 0, "f", shared=10) == 11
    assert call_item(lambda x: x, 1, 0, "f") == 1


def test_reporter_appends_jsonl_and_artifacts_are_listed(tmp_path):
    seen = []
    ctx = RunContext.create("m/e", 0, tmp_path, sinks=[lambda m, s: seen.append((s, m))])
    ctx.report({"train/x": 1.0}, step=0)
    ctx.report({"train/x": 2.0}, step=1)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows == [{"step": 0, "train/x": 1.0}, {"step": 1, "train/x": 2.0}]
    assert seen[-1] == (1, {"train/x": 2.0}) and ctx.reporter.latest == {"train/x": 2.0}
    assert ctx.artifact("plot.png") == tmp_path / "plot.png" and ctx.artifacts == ["plot.png"]


def test_checkpointer_returns_the_latest_state(tmp_path):
    ckpt = Checkpointer(tmp_path)
    assert ckpt.load_latest() is None
    ckpt.save({"w": [1]}, step=5)
    ckpt.save({"w": [2]}, step=12)
    assert ckpt.load_latest() == (12, {"w": [2]})


@pytest.mark.parametrize("name", ["../escape.png", "/tmp/escape.png", "sub/../../escape.png"])
def test_artifacts_cannot_leave_the_run_folder(tmp_path, name):
    ctx = RunContext.create("x/y", 0, tmp_path / "run")
    with pytest.raises(RaylabError, match="outside the run folder"):
        ctx.artifact(name)
    assert ctx.artifact("plots/curve.png") == tmp_path / "run" / "plots" / "curve.png"


def test_caches_live_in_the_run_folder_unless_the_user_names_a_store(tmp_path):
    ctx = RunContext.create("x/y", 0, tmp_path / "run")
    assert ctx.cache_dir() == tmp_path / "run" / "cache"
    ctx.shared_cache = tmp_path / "shared"
    assert ctx.cache_dir() == tmp_path / "shared"


def test_data_roots_come_from_raylab_data_then_the_repository(tmp_path, monkeypatch):
    import os

    from raylab.methods.mri_gs import data as mri_data
    from raylab.methods.tsp_mdf import data as tsp_data

    first, second = tmp_path / "a", tmp_path / "b"
    (second / "tsp").mkdir(parents=True)
    (second / "tsp" / "set.npy").write_bytes(b"")
    (first / "mri").mkdir(parents=True)
    (first / "mri" / "ch2bet.nii.gz").write_bytes(b"")
    monkeypatch.setenv("RAYLAB_DATA", f"{first}{os.pathsep}{second}")
    roots = RunContext.create("x/y", 0, tmp_path / "run").data_roots
    repository_data = Path(__file__).resolve().parents[2] / "data"
    assert roots[:3] == (first, second, repository_data)
    assert tsp_data.resolve("set.npy", roots) == second / "tsp" / "set.npy"
    assert mri_data.resolve("colin27", roots) == first / "mri" / "ch2bet.nii.gz"
    with pytest.raises(RaylabError, match="b/tsp/other.npy"):
        tsp_data.resolve("other.npy", roots)
    with pytest.raises(RaylabError, match="ch2bet.nii.gz"):
        mri_data.resolve("colin27", roots[:0])
