"""Windows, inference coverage, the data-parallel loss normalisation and resuming."""

import dataclasses

import numpy as np
import pytest
import torch

from raylab.context import Checkpointer
from raylab.data_parallel import LocalSession, run_local
from raylab.methods.abaw import layout, synthetic
from raylab.methods.abaw.config import AbawConfig, ModelConfig, SyntheticConfig, TrainConfig
from raylab.methods.abaw.model import focal_loss
from raylab.methods.abaw.train import build_model, make_windows, predict, train_loop

SMALL = SyntheticConfig(
    train_videos=4, val_videos=2, min_frames=150, max_frames=250, visual_dim=8, audio_dim=8
)
CFG = AbawConfig(
    model=ModelConfig(width=16, heads=4, window=32, dropout=0.0),
    train=TrainConfig(epochs=3, batch_size=8),
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("abaw")
    synthetic.generate(root, 0, SMALL, 30, 50)
    return layout.load_split(root, "train", 30, 50), layout.load_split(root, "val", 30, 50)


def test_windows_cover_every_frame_with_half_overlap(data):
    train, _ = data
    windows = make_windows(train, 32)
    for index, video in enumerate(train):
        covered = np.zeros(video.frames, dtype=int)
        for start in windows.start[windows.video == index]:
            covered[start : start + 32] += 1
        assert covered.min() >= 1
    padded = windows.labels[~windows.vis_valid & ~windows.aud_valid]
    assert (padded == -1).all()


def test_predictions_cover_every_frame_and_are_distributions(data):
    _, val = data
    model = build_model(CFG, 8, 8, seed=0)
    for drop_visual in (False, True):
        probabilities = predict(model, val, 32, torch.device("cpu"), drop_visual=drop_visual)
        assert [len(p) for p in probabilities] == [v.frames for v in val]
        np.testing.assert_allclose([p.sum(axis=1) for p in probabilities][0], 1.0, atol=1e-5)


def test_two_shards_average_to_the_one_worker_gradient(data):
    """DDP averages the workers' gradients; each worker divides its loss sum by (labelled frames in
    the global batch) / world_size, so the average is the one-worker gradient exactly."""
    train, _ = data
    windows = make_windows(train, 32)
    model = build_model(CFG, 8, 8, seed=0).double()
    rows = np.arange(8)
    labelled = int((windows.labels[rows] >= 0).sum())

    def gradient(part, normaliser):
        model.zero_grad()
        tensor = lambda a: torch.as_tensor(a[part])  # noqa: E731
        v, vv, a, av = (
            tensor(windows.visual).double(),
            tensor(windows.vis_valid),
            tensor(windows.audio).double(),
            tensor(windows.aud_valid),
        )
        focal_loss(model(v, vv, a, av), tensor(windows.labels), 2.0, normaliser=normaliser).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    one = gradient(rows, labelled)
    two = (gradient(rows[0::2], labelled / 2) + gradient(rows[1::2], labelled / 2)) / 2
    torch.testing.assert_close(two, one, atol=1e-12, rtol=1e-9)


class Interrupt(KeyboardInterrupt):
    pass


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(data, tmp_path):
    train, _ = data
    job = {
        "cfg": dataclasses.replace(CFG, model=dataclasses.replace(CFG.model, dropout=0.1)),
        "seed": 5,
        "windows": make_windows(train, 32),
    }
    whole = run_local(train_loop, job, workers=1, device=torch.device("cpu"))

    def stop_after_first(metrics, epoch):
        if epoch == 1:
            raise Interrupt

    checkpointer = Checkpointer(tmp_path)
    with pytest.raises(Interrupt):
        run_local(
            train_loop,
            job,
            workers=1,
            device=torch.device("cpu"),
            checkpointer=checkpointer,
            sink=stop_after_first,
        )
    session = LocalSession(torch.device("cpu"), checkpointer)
    assert session.latest()["epoch"] == 1
    resumed = run_local(train_loop, job, workers=1, device=torch.device("cpu"), checkpointer=checkpointer)
    assert resumed["epoch"] == whole["epoch"] == 3
    for key, value in whole["model"].items():
        torch.testing.assert_close(resumed["model"][key], value, atol=0, rtol=0)
    assert [row["train/loss"] for row in resumed["history"]] == [
        row["train/loss"] for row in whole["history"]
    ]


def test_several_workers_need_ray():
    with pytest.raises(Exception, match="need Ray"):
        run_local(train_loop, {}, workers=2, device=torch.device("cpu"))
