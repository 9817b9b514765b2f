"""The CIFAR-10 protocol as the official code releases it: best-of-window checkpoint, AutoAttack's
standard step counts, raw inputs, WRN initialisation, the learning-rate epochs, all test images."""

import math
import pickle
import shutil

import numpy as np
import pytest
import torch

from raylab.context import Checkpointer, SerialMapper
from raylab.methods.s2o import attacks
from raylab.methods.s2o import data as data_mod
from raylab.methods.s2o.config import EvalConfig, S2OConfig, TrainConfig
from raylab.methods.s2o.data import ImageData
from raylab.methods.s2o.experiment import metrics_of, train_cell
from raylab.methods.s2o.models import WideResNet, build_model
from raylab.methods.s2o.train import Cell, build, learning_rate
from raylab.records import read_record
from raylab.registry import get_spec
from raylab.runner import load_run_config, run_experiment

CIFAR = ("s2o/cifar10_at", "s2o/cifar10_trades_wrn")
MNIST = ("s2o/mnist_at", "s2o/mnist_trades")


@pytest.fixture(scope="module")
def digits():
    return data_mod.load("digits", "", 256, 64, 0)


def digits_cfg(window: list[int]) -> S2OConfig:
    cfg = S2OConfig(variants=["at_s2o"], replicates=1, device="cpu")
    cfg.data.name, cfg.data.n_train, cfg.data.n_test = "digits", 256, 64
    cfg.model.hidden = 32
    cfg.train.epochs, cfg.train.batch_size, cfg.train.attack_steps = 3, 64, 3
    cfg.train.lr, cfg.eval.eps, cfg.eval.step = 0.2, 0.02, 0.005  # PGD-20 scores that differ by epoch
    cfg.eval.points, cfg.eval.curve_points, cfg.eval.attacks = 48, 32, ["pgd", "cw"]
    cfg.eval.best_window = window
    return cfg


# --- 1. the best checkpoint of a window of epochs, beside the final model


def test_the_window_keeps_the_checkpoint_with_the_highest_pgd20(digits):
    cell = Cell("at_s2o", 0, 7)
    result = train_cell(cell, digits_cfg([1, 3]), digits)
    scores = [row["select_pgd20"] for row in result["curve"]]
    assert len(scores) == 3 and result["best"]["epoch"] == 1 + int(np.argmax(scores))
    # chosen by the final evaluation's own PGD-20 (same images, same seed): its reported number
    assert result["best"]["pgd20"] == max(scores)
    assert result["final"]["pgd20"] == scores[-1] < max(scores)  # here the best is not the last
    # scoring the window leaves training alone: the final model is the one of a run without a window
    assert result["final"] == train_cell(cell, digits_cfg([]), digits)["final"]


def test_epochs_outside_the_window_are_not_candidates(digits):
    result = train_cell(Cell("at", 0, 7), digits_cfg([2, 2]), digits)
    assert [("select_pgd20" in row) for row in result["curve"]] == [False, True, False]
    assert result["best"]["epoch"] == 2 and "best" not in train_cell(Cell("at", 0, 7), digits_cfg([]), digits)


def test_a_resumed_cell_keeps_the_window_best(digits, tmp_path):
    cfg, cell = digits_cfg([1, 2]), Cell("at_s2o", 0, 3)
    full = train_cell(cell, cfg, digits, Checkpointer(tmp_path / "full"))
    # resumed after the first epoch of the window: the restored best competes with the second
    first = tmp_path / "full" / "checkpoints" / "step_00000000"
    shutil.copytree(first, tmp_path / "resumed" / "checkpoints" / first.name)
    resumed = train_cell(cell, cfg, digits, Checkpointer(tmp_path / "resumed"))
    assert resumed["best"] == full["best"] and resumed["final"] == full["final"]


def test_best_and_final_metrics_have_their_own_keys_and_the_best_is_reported():
    best, final = {"clean": 0.8, "pgd20": 0.5, "epoch": 104}, {"clean": 0.85, "pgd20": 0.45}
    grid = [Cell("at_s2o", 0, 1)]
    finals, _, metrics = metrics_of(grid, [{"curve": [{"images_per_s": 1.0}], "best": best, "final": final}])
    assert finals == {"at_s2o": [best]}
    assert (
        metrics["eval/best/at_s2o/pgd20"] == metrics["eval/at_s2o/pgd20"] == metrics["eval/cell/pgd20"] == 0.5
    )
    assert metrics["eval/final/at_s2o/pgd20"] == 0.45 and metrics["eval/final/at_s2o/r0/clean"] == 0.85
    assert metrics["eval/best/at_s2o/epoch"] == 104
    _, _, plain = metrics_of(grid, [{"curve": [{"images_per_s": 1.0}], "final": final}])
    assert not [k for k in plain if k.startswith(("eval/best/", "eval/final/"))]


def test_the_window_must_lie_inside_the_run_and_be_first_and_last():
    with pytest.raises(ValueError, match="ends after the last epoch"):
        S2OConfig(eval=EvalConfig(best_window=[5, 9]), train=TrainConfig(epochs=6))
    for window in ([3, 2], [0, 2], [1, 2, 3]):
        with pytest.raises(ValueError, match="best_window"):
            EvalConfig(best_window=window)


# --- 2. AutoAttack standard with the released step counts


def test_standard_autoattack_has_the_released_settings():
    model = build_model("mlp", (1, 8, 8), 10, 16, (0.5,), (0.25,))
    attack = attacks.evaluation_attack("autoattack", model, 8 / 255, 0.003, 20, 10, 0, "standard")
    assert type(attack).__name__ == "MultiAttack"
    apgd, apgdt, fab, square = attack.attacks
    assert [type(a).__name__ for a in attack.attacks] == ["APGD", "APGDT", "FAB", "Square"]
    assert all(a.eps == 8 / 255 and a.norm == "Linf" and a.model is model for a in attack.attacks)
    assert (apgd.loss, apgd.steps, apgd.n_restarts, apgd.eot_iter, apgd.thr_decr) == ("ce", 100, 1, 1, 0.75)
    assert (apgdt.steps, apgdt.n_restarts, apgdt.n_target_classes, apgdt.eot_iter) == (100, 1, 9, 1)
    assert (fab.steps, fab.n_restarts, fab.n_target_classes, fab.multi_targeted) == (100, 1, 9, True)
    assert (fab.alpha_max, fab.eta, fab.beta) == (0.1, 1.05, 0.9)
    assert (square.n_queries, square.n_restarts, square.p_init, square.loss) == (5000, 1, 0.8, "margin")
    assert square.rescale_schedule is False


def test_the_reduced_set_is_torchattacks_own_and_the_cpu_default():
    model = build_model("mlp", (1, 8, 8), 10, 16, (0.5,), (0.25,))
    attack = attacks.evaluation_attack("autoattack", model, 0.1, 0.0125, 20, 10, 0)
    assert type(attack).__name__ == "AutoAttack"
    assert [a.steps for a in attack._autoattack.attacks[:3]] == [10, 10, 10]
    for name in MNIST:
        assert load_run_config(get_spec(name)).eval.autoattack == "reduced"


def test_standard_autoattack_stays_in_the_ball(digits):
    model = build_model("mlp", digits.shape, 10, 16, digits.mean, digits.std).eval()
    x, y = digits.x_test[:16], digits.y_test[:16]
    x_adv = attacks.evaluation_attack("autoattack", model, 0.05, 0.01, 5, 10, 0, "standard")(x, y)
    x_adv = x_adv.detach()
    assert float((x_adv - x).abs().max()) <= 0.05 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1


# --- 3. raw inputs for the CIFAR models


def first_input(model: torch.nn.Module, first: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What `first` (the network's first layer) receives when `model` is applied to x."""
    seen = []
    handle = first.register_forward_pre_hook(lambda _module, args: seen.append(args[0]))
    with torch.no_grad():
        model.eval()(x)
    handle.remove()
    return seen[0]


def cifar_shaped(n: int = 8) -> ImageData:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(n, 3, 32, 32, generator=g), torch.arange(n) % 10
    return ImageData(x, y, x, y)


@pytest.mark.parametrize("name", CIFAR)
def test_the_cifar_models_first_layer_sees_the_raw_image(name):
    cfg = load_run_config(get_spec(name))
    data = cifar_shaped()
    model, _ = build(Cell(cfg.variants[0], 0, 1), cfg, data, torch.device("cpu"))
    x = data.x_test[:2]
    assert not cfg.model.normalize and first_input(model, model.net.stem, x) is x


def test_the_mnist_models_still_normalise():
    cfg = load_run_config(get_spec("s2o/mnist_at"))
    data = data_mod.load("digits", "", 64, 16, 0)
    model, _ = build(Cell("at", 0, 1), cfg, data, torch.device("cpu"))
    x = data.x_test[:2]
    seen = first_input(model, model.net.body, x)
    assert cfg.model.normalize
    torch.testing.assert_close(seen, (x - torch.tensor(data.mean).view(1, -1, 1, 1)) / data.std[0])


# --- 4. WRN initialisation and the TRADES + S2O WRN-34-10 experiment


def test_wide_resnet_uses_he_fan_out_initialisation():
    torch.manual_seed(0)
    net = WideResNet(depth=10, widen=2, channels=3, classes=10)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 10  # stem, 3 blocks x (2 convs + a 1x1 shortcut)
    for conv in convs:
        w = conv.weight.detach().double().flatten()
        sigma = math.sqrt(2.0 / (conv.kernel_size[0] * conv.kernel_size[1] * conv.out_channels))
        # sample sd and mean within 5 standard errors of N(0, sigma^2)
        assert abs(float(w.std()) / sigma - 1) < 5 / math.sqrt(2 * len(w)), conv
        assert abs(float(w.mean())) < 5 * sigma / math.sqrt(len(w)), conv
    for bn in (m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        assert bool((bn.weight == 1).all()) and bool((bn.bias == 0).all())
    assert torch.equal(net.head.bias, torch.zeros(10))


def test_the_trades_wrn_experiment_has_the_official_settings():
    spec, at = get_spec("s2o/cifar10_trades_wrn"), get_spec("s2o/cifar10_at")
    assert not spec.reproduce and spec.resources == at.resources == {"cpu": 1, "gpu": 1}
    assert spec.user_data == at.user_data.replace("cifar10_at", "cifar10_trades_wrn")
    cfg = load_run_config(spec)
    assert (cfg.variants, cfg.replicates, cfg.model.arch) == (["trades_s2o"], 1, "wrn34_10")
    t = cfg.train
    assert (t.epochs, t.batch_size, t.lr, t.lr_milestones, t.momentum, t.weight_decay) == (
        200,
        128,
        0.1,
        [100, 150],
        0.9,
        5e-4,
    )
    assert (t.trades_beta, t.trades_s2o_weight, t.attack_steps) == (6.0, 0.3, 10)
    assert math.isclose(t.eps, 8 / 255) and math.isclose(t.attack_step, 2 / 255)
    assert cfg.data.augment and cfg.data.name == "cifar10"


# --- the learning-rate epochs and 5. all 10,000 test images


def test_lr_milestones_count_epochs_from_one_as_the_official_loop():
    cfg = S2OConfig(train=TrainConfig(lr=0.1, lr_milestones=[100, 150]))
    # 0-based epoch 99 is the official epoch 100: the first at 0.01
    lrs = [learning_rate(cfg, e) for e in (0, 98, 99, 148, 149, 199)]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-12)


@pytest.mark.parametrize("name", CIFAR)
def test_the_cifar_protocol_attacks_every_test_image(name):
    cfg, smoke = load_run_config(get_spec(name)), load_run_config(get_spec(name), smoke=True)
    assert cfg.eval.points == 10_000 and cfg.data.n_test == 0  # 0: all 10,000 test images
    assert cfg.eval.autoattack == "standard" and "autoattack" in cfg.eval.attacks
    assert cfg.eval.best_window == [100, 109] and cfg.train.epochs == 200
    assert smoke.eval.points < 10_000 and smoke.eval.best_window[1] < smoke.train.epochs


def write_cifar(folder, per_batch: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in data_mod.CIFAR_FILES:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"labels": [i % 10 for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(batch))


def test_a_cifar_smoke_run_reports_the_best_and_the_final_model(tmp_path):
    """The cifar10_at smoke protocol end to end on CIFAR-shaped random images, with a small CNN."""
    write_cifar(tmp_path / "cifar", 32)
    spec = get_spec("s2o/cifar10_at")
    overrides = [f"data.root={tmp_path / 'cifar'}", "model.arch=cnn", "data.n_train=96", "data.n_test=32"]
    overrides += ["eval.points=16", "eval.curve_points=16", "device=cpu"]
    cfg = load_run_config(spec, overrides=overrides, smoke=True)
    run_experiment(spec, cfg, tmp_path / "run", mapper=SerialMapper(progress=False))
    record = read_record(tmp_path / "run")
    assert record.status == "ok", record.error
    m = record.metrics
    assert m["eval/best/at_s2o/epoch"] in (2, 3) and m["eval/at_s2o/pgd20"] == m["eval/best/at_s2o/pgd20"]
    assert {"eval/final/at_s2o/aa", "eval/best/at_s2o/aa", "eval/final/at_s2o/clean"} <= set(m)
    results = (tmp_path / "run" / "results.md").read_text()
    assert "Best of epochs 2-3" in results and "Final model (epoch 4)" in results
