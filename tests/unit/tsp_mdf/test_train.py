"""Training is unsupervised (it reads no file at all, let alone a reference tour) and resumable."""

import builtins
import copy
from pathlib import Path

import numpy as np
import pytest
import torch

from raylab.methods.tsp_mdf import data, tsplib
from raylab.methods.tsp_mdf.config import TrainConfig
from raylab.methods.tsp_mdf.train import train_modifier
from tests.unit.tsp_mdf import serial_map


def tiny(**overrides) -> TrainConfig:
    return TrainConfig(
        **{
            "nodes": 20,
            "batch": 2,
            "samples": 4,
            "steps": 4,
            "held_out": 2,
            "eval_every": 2,
            "best_of": 2,
            **overrides,
        }
    )


def test_training_reads_no_data_and_reports_held_out_lengths(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"training tried to read data: {args[:1]}")

    real_open, real_read_text = builtins.open, Path.read_text

    def allowed(file) -> bool:  # libraries still read sources, caches, package metadata and /proc
        metadata = any(part.endswith((".egg-info", ".dist-info")) for part in Path(file).parts)
        return metadata or not str(file).endswith((".npy", ".npz", ".tsp", ".tour", ".txt", ".pkl", ".pt"))

    def code_only_open(file, *args, **kwargs):
        return real_open(file, *args, **kwargs) if allowed(file) else refuse(file)

    def code_only_read_text(path, *args, **kwargs):
        return real_read_text(path, *args, **kwargs) if allowed(path) else refuse(path)

    for owner, name in (
        (np, "load"),
        (np, "loadtxt"),
        (data, "load"),
        (tsplib, "read_tsp"),
        (tsplib, "read_tour"),
        (tsplib, "read_optimal_lengths"),
    ):
        monkeypatch.setattr(owner, name, refuse)
    monkeypatch.setattr(builtins, "open", code_only_open)
    monkeypatch.setattr(Path, "read_text", code_only_read_text)
    reports = []
    net, history = train_modifier(tiny(), 0, serial_map, lambda metrics, step: reports.append(step))
    assert reports == [0, 2, 4] and [h["step"] for h in history] == [0, 2, 4]
    for row in history:
        assert row["held_out/best_of_k"] <= row["held_out/plain"] + 1e-12  # plain is one of the samples
        assert row["held_out/best_of_k"] <= row["held_out/mean_sample"] + 1e-12


@pytest.mark.parametrize("objective", ["mean", "best_of_m"])
def test_resuming_from_a_checkpoint_gives_the_same_modifier(objective):
    cfg = tiny(objective=objective, checkpoint_every=2)
    saved = {}
    straight, _ = train_modifier(
        cfg,
        0,
        serial_map,
        lambda m, s: None,
        save=lambda state, step: saved.setdefault(step, copy.deepcopy(state)),
    )
    resumed, history = train_modifier(cfg, 0, serial_map, lambda m, s: None, state=saved[2])
    for key, value in straight.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, rtol=0, atol=0)
    assert history[-1]["step"] == 4


def test_training_changes_the_shift_distribution():
    net, _ = train_modifier(tiny(steps=3, lr=1e-2), 0, serial_map, lambda m, s: None)
    assert net.head.weight.abs().sum() > 0  # zero-initialised head moved: gradients reach it
