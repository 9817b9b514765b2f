"""The synthetic Aff-Wild2 stand-in: layout, pairs, priors, face-missing runs, impulses."""

import dataclasses

import numpy as np
import pytest

from raylab.methods.abaw import layout, synthetic
from raylab.methods.abaw.config import SyntheticConfig

SMALL = SyntheticConfig(
    train_videos=6, val_videos=4, min_frames=200, max_frames=300, visual_dim=8, audio_dim=8, pair_fraction=0.5
)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic")
    frames = synthetic.generate(root, 0, SMALL, fps=30, audio_hz=50)
    return root, frames


def test_the_challenge_layout_is_written_and_reads_back(written):
    root, frames = written
    for split, count in (("train", SMALL.train_videos), ("val", SMALL.val_videos)):
        videos = layout.load_split(root, split, 30, 50)
        assert len(videos) == count
        assert sum(v.frames for v in videos) == frames[split]
        for path in layout.annotation_dir(root, split).glob("*.txt"):
            assert path.read_text().splitlines()[0] == layout.HEADER


def test_pairs_share_one_audio_file_and_their_length(written):
    root, _ = written
    videos = {v.name: v for v in layout.load_split(root, "train", 30, 50)}
    pairs = [name[: -len("_left")] for name in videos if name.endswith("_left")]
    assert pairs, "pair_fraction 0.5 over 6 videos writes at least one pair"
    for base in pairs:
        left, right = videos[f"{base}_left"], videos[f"{base}_right"]
        assert (root / "features" / "audio" / f"{base}.npy").exists()
        assert left.frames == right.frames
        np.testing.assert_array_equal(left.audio, right.audio)


def test_faces_go_missing_only_in_validation_by_default(written):
    root, _ = written
    assert all(v.vis_valid.all() for v in layout.load_split(root, "train", 30, 50))
    assert not all(v.vis_valid.all() for v in layout.load_split(root, "val", 30, 50))


def test_labels_follow_the_long_tailed_prior():
    rng = np.random.default_rng(0)
    labels = np.concatenate([synthetic.segment_labels(rng, 5000, SMALL) for _ in range(40)])
    observed = np.bincount(labels, minlength=8) / len(labels)
    # segments of ~85 frames: ~2350 independent draws; 5 standard errors of a proportion <= 0.05
    assert np.abs(observed - synthetic.CLASS_PRIOR).max() < 5 * np.sqrt(0.25 / 2350)


def test_impulses_change_only_some_visual_frames(tmp_path):
    clean = synthetic.generate(tmp_path / "clean", 0, SMALL, 30, 50, ("val",))
    noisy_cfg = dataclasses.replace(SMALL, impulsive_rate=0.05)
    noisy = synthetic.generate(tmp_path / "noisy", 0, noisy_cfg, 30, 50, ("val",))
    assert clean == noisy
    a, b = (
        layout.load_split(tmp_path / "clean", "val", 30, 50),
        layout.load_split(tmp_path / "noisy", "val", 30, 50),
    )
    changed = total = 0
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.labels, y.labels)
        np.testing.assert_array_equal(x.audio, y.audio)
        np.testing.assert_array_equal(x.vis_valid, y.vis_valid)
        changed += int((x.visual != y.visual).any(axis=1).sum())
        total += x.frames
    assert abs(changed / total - 0.05) < 5 * np.sqrt(0.05 * 0.95 / total)


def test_generation_is_deterministic_per_seed(tmp_path):
    synthetic.generate(tmp_path / "a", 3, SMALL, 30, 50, ("val",))
    synthetic.generate(tmp_path / "b", 3, SMALL, 30, 50, ("val",))
    synthetic.generate(tmp_path / "c", 4, SMALL, 30, 50, ("val",))
    read = {k: layout.load_split(tmp_path / k, "val", 30, 50) for k in "abc"}
    assert all(np.array_equal(x.visual, y.visual) for x, y in zip(read["a"], read["b"]))
    assert not all(np.array_equal(x.labels, y.labels) for x, y in zip(read["a"], read["c"]))
