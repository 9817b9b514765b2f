"""Safe cross-attention, the focal loss and modality dropout."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from raylab.methods.abaw.config import ModelConfig
from raylab.methods.abaw.model import (
    AVTransformer,
    SafeAttention,
    class_weights,
    focal_loss,
    modality_dropout,
)

B, T, S, WIDTH = 3, 7, 5, 16


def masks():
    generator = torch.Generator().manual_seed(0)
    single = torch.zeros(B, S, dtype=torch.bool)
    single[:, 2] = True
    return {
        "all_masked": torch.zeros(B, S, dtype=torch.bool),
        "all_valid": torch.ones(B, S, dtype=torch.bool),
        "random": torch.rand(B, S, generator=generator) > 0.5,
        "single_valid": single,
    }


@pytest.fixture
def attention():
    torch.manual_seed(0)
    return SafeAttention(WIDTH, heads=4).double()


@pytest.mark.parametrize("mask", masks().keys())
def test_no_nan_or_inf_in_outputs_or_gradients(attention, mask):
    query = torch.randn(B, T, WIDTH, dtype=torch.float64, requires_grad=True)
    keys = torch.randn(B, S, WIDTH, dtype=torch.float64, requires_grad=True)
    out = attention(query, keys, masks()[mask], torch.ones(B, T, dtype=torch.bool))
    out.pow(2).sum().backward()
    grads = [query.grad, keys.grad] + [p.grad for p in attention.parameters() if p.grad is not None]
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(g).all() for g in grads)


def test_pytorch_attention_gives_nan_where_ours_is_safe():
    """The failure the safe version avoids: every key masked -> NaN rows in nn.MultiheadAttention."""
    torch.manual_seed(0)
    reference = torch.nn.MultiheadAttention(WIDTH, 4, batch_first=True)
    query, keys = torch.randn(B, T, WIDTH), torch.randn(B, S, WIDTH)
    out, _ = reference(query, keys, keys, key_padding_mask=torch.ones(B, S, dtype=torch.bool))
    assert torch.isnan(out).all()


def test_all_masked_keys_give_the_normalised_residual(attention):
    query, keys = torch.randn(B, T, WIDTH, dtype=torch.float64), torch.randn(B, S, WIDTH, dtype=torch.float64)
    out = attention(query, keys, masks()["all_masked"], torch.ones(B, T, dtype=torch.bool))
    torch.testing.assert_close(out, attention.norm(query), atol=1e-6, rtol=0)


def test_invalid_queries_pass_through(attention):
    query, keys = torch.randn(B, T, WIDTH, dtype=torch.float64), torch.randn(B, S, WIDTH, dtype=torch.float64)
    query_valid = torch.ones(B, T, dtype=torch.bool)
    query_valid[:, 3] = False
    out = attention(query, keys, masks()["all_valid"], query_valid)
    torch.testing.assert_close(out[:, 3], attention.norm(query[:, 3]), atol=1e-6, rtol=0)


@pytest.mark.parametrize("mask", masks().keys())
def test_masked_keys_get_exactly_zero_weight_and_the_kernel_matches_the_reference(attention, mask):
    query, keys = torch.randn(B, T, WIDTH, dtype=torch.float64), torch.randn(B, S, WIDTH, dtype=torch.float64)
    key_valid = masks()[mask]
    weights = attention.weights(query, keys, key_valid)
    assert (weights.permute(0, 2, 1, 3)[~key_valid[:, None, None, :].expand(B, T, 4, S)] == 0).all()
    rows = weights.sum(-1)
    expected = key_valid.any(1).double()[:, None, None].expand_as(rows)
    torch.testing.assert_close(rows, expected, atol=1e-12, rtol=0)
    values = attention._heads(attention.value, keys)
    reference = (weights @ values).transpose(1, 2).reshape(B, T, WIDTH)
    torch.testing.assert_close(attention.attend(query, keys, key_valid), reference, atol=1e-10, rtol=0)


def test_the_model_is_finite_with_a_whole_modality_missing():
    torch.manual_seed(0)
    model = AVTransformer(6, 5, ModelConfig(width=16, heads=4, window=T))
    visual, audio = torch.randn(B, T, 6), torch.randn(B, T, 5)
    none, every = torch.zeros(B, T, dtype=torch.bool), torch.ones(B, T, dtype=torch.bool)
    for vis_valid, aud_valid in ((none, every), (every, none), (none, none)):
        logits = model(visual, vis_valid, audio, aud_valid)
        logits.sum().backward()
        assert torch.isfinite(logits).all()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_focal_loss_with_gamma_zero_is_cross_entropy():
    torch.manual_seed(0)
    logits, labels = torch.randn(50, 8, dtype=torch.float64), torch.randint(-1, 8, (50,))
    torch.testing.assert_close(
        focal_loss(logits, labels, gamma=0.0),
        F.cross_entropy(logits, labels, ignore_index=-1),
        atol=1e-6,
        rtol=0,
    )


def test_focal_loss_down_weights_easy_frames():
    """Per frame, FL / CE = (1 - p_t)^gamma: below 1 for every p_t > 0 and below 1/4 once p_t > 0.5."""
    logits = torch.tensor([[3.0, 0, 0, 0, 0, 0, 0, 0], [0.5, 0, 0, 0, 0, 0, 0, 0]])
    labels = torch.tensor([0, 0])
    for i in range(2):
        p_t = logits[i].softmax(0)[0].item()
        ratio = focal_loss(logits[i : i + 1], labels[i : i + 1], 2.0) / focal_loss(
            logits[i : i + 1], labels[i : i + 1], 0.0
        )
        assert ratio.item() == pytest.approx((1 - p_t) ** 2, rel=1e-6)
        assert ratio < 1 and (p_t <= 0.5 or ratio < 0.25)


def test_class_weights_are_inverse_frequency_with_mean_one():
    labels = np.array([0] * 90 + [1] * 9 + [-1] * 5)
    weights = class_weights(labels)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[1] / weights[0] == pytest.approx(91 / 10)


def test_modality_dropout_never_drops_both_and_hits_its_rates():
    n, p_v, p_a = 20000, 0.5, 0.25
    keep_visual, keep_audio = modality_dropout(np.random.default_rng(0), n, p_v, p_a, 0.0, 4)
    dropped_visual, dropped_audio = ~keep_visual[:, 0], ~keep_audio[:, 0]
    assert not (dropped_visual & dropped_audio).any()
    assert (keep_visual == keep_visual[:, :1]).all() and (keep_audio == keep_audio[:, :1]).all()
    tolerance = 5 * np.sqrt(0.25 / n)  # five binomial standard deviations
    assert abs(dropped_visual.mean() - p_v) < tolerance
    assert abs(dropped_audio.mean() - p_a) < tolerance


def test_frame_masking_removes_single_visual_frames():
    keep_visual, _ = modality_dropout(np.random.default_rng(0), 500, 0.0, 0.0, 0.2, 40)
    assert abs((~keep_visual).mean() - 0.2) < 5 * np.sqrt(0.16 / keep_visual.size)
