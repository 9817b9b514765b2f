"""The EXPR file formats and the feature reader."""

import numpy as np
import pytest

from raylab import DataMissing
from raylab.methods.abaw import layout


def test_annotation_round_trip_keeps_header_and_ignored_frames(tmp_path):
    labels = np.array([0, 7, -1, -1, 4, 3])
    path = tmp_path / "video.txt"
    layout.write_annotation(path, labels)
    lines = path.read_text().splitlines()
    assert lines[0] == "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
    assert len(lines) - 1 == len(labels)
    np.testing.assert_array_equal(layout.read_annotation(path), labels)


@pytest.mark.parametrize(
    "text, message",
    [
        ("Neutral,Anger\n0\n", "line 1 must be exactly"),
        (layout.HEADER + "\n0\nx\n", "line 3 is 'x'"),
        (layout.HEADER + "\n8\n", "line 2 has label 8"),
        (layout.HEADER + "\n-2\n", "line 2 has label -2"),
    ],
)
def test_malformed_annotations_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(layout.FormatError, match=message) as error:
        layout.read_annotation(path)
    assert "bad.txt" in str(error.value)


def test_submission_round_trip_covers_every_frame(tmp_path):
    predictions = {"a_left": np.array([1, 2, 3]), "b": np.arange(8)}
    path = tmp_path / "submission.csv"
    layout.write_submission(path, predictions)
    lines = path.read_text().splitlines()
    assert lines[0] == "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"
    assert lines[1] == "a_left/00001.jpg,1"
    assert len(lines) == 1 + 3 + 8
    read = layout.read_submission(path)
    assert read.keys() == predictions.keys()
    for video, labels in predictions.items():
        np.testing.assert_array_equal(read[video], labels)


def test_a_submission_skipping_a_frame_is_rejected(tmp_path):
    path = tmp_path / "submission.csv"
    path.write_text(layout.SUBMISSION_HEADER + "\nv/00001.jpg,0\nv/00003.jpg,1\n")
    with pytest.raises(layout.FormatError, match="line 3"):
        layout.read_submission(path)


def test_left_and_right_share_the_audio_track():
    assert layout.audio_name("10-60-1280x720_left") == "10-60-1280x720"
    assert layout.audio_name("10-60-1280x720_right") == "10-60-1280x720"
    assert layout.audio_name("118-30-640x480") == "118-30-640x480"


def test_audio_is_averaged_over_each_frame_interval():
    """50 Hz rows -> 30 fps frames: frame i averages the rows whose centres fall in [i/30, (i+1)/30)."""
    rows = np.arange(10, dtype=np.float32)[:, None]  # 0.2 s at 50 Hz
    frames = layout.frame_rate_audio(rows, 6, fps=30, audio_hz=50)
    centres = (np.arange(10) + 0.5) / 50
    for i in range(6):
        inside = np.flatnonzero(np.floor(centres * 30) == i)
        assert frames[i, 0] == pytest.approx(rows[inside, 0].mean())


def write_video(root, name, labels, visual, audio):
    layout.write_annotation(layout.annotation_dir(root, "train") / f"{name}.txt", labels)
    (root / "features" / "visual").mkdir(parents=True, exist_ok=True)
    (root / "features" / "audio").mkdir(parents=True, exist_ok=True)
    np.save(root / "features" / "visual" / f"{name}.npy", visual)
    np.save(root / "features" / "audio" / f"{layout.audio_name(name)}.npy", audio)


def test_faces_are_missing_where_rows_are_nan_or_the_jpg_is_absent(tmp_path):
    visual = np.ones((5, 3), dtype=np.float32)
    visual[1] = np.nan
    write_video(tmp_path, "v", np.zeros(5, dtype=int), visual, np.ones((9, 2), dtype=np.float32))
    jpgs = tmp_path / "cropped_aligned" / "v"
    jpgs.mkdir(parents=True)
    for frame in (1, 2, 3, 5):
        (jpgs / f"{frame:05d}.jpg").touch()
    (video,) = layout.load_split(tmp_path, "train", fps=30, audio_hz=50)
    np.testing.assert_array_equal(video.vis_valid, [True, False, True, False, True])
    assert np.all(video.visual[~video.vis_valid] == 0)
    assert video.aud_valid.all() and video.audio.shape == (5, 2)


def test_short_feature_files_mark_the_rest_missing(tmp_path):
    write_video(
        tmp_path, "v", np.zeros(6, dtype=int), np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)
    )
    (video,) = layout.load_split(tmp_path, "train", fps=30, audio_hz=50)
    np.testing.assert_array_equal(video.vis_valid, [True] * 4 + [False] * 2)
    assert not video.aud_valid[-1]  # 4 audio rows at 50 Hz cover 0.08 s: frames 0-2 only


def test_missing_folders_and_files_name_what_is_missing(tmp_path):
    with pytest.raises(DataMissing, match="Train_Set"):
        layout.load_split(tmp_path, "train", 30, 50)
    layout.write_annotation(layout.annotation_dir(tmp_path, "train") / "v.txt", np.zeros(3, dtype=int))
    with pytest.raises(DataMissing, match="v.npy"):
        layout.load_split(tmp_path, "train", 30, 50)


def test_features_of_the_wrong_rank_are_a_format_error(tmp_path):
    write_video(tmp_path, "v", np.zeros(3, dtype=int), np.ones(3, np.float32), np.ones((4, 2), np.float32))
    with pytest.raises(layout.FormatError, match=r"\(frames, dim\)"):
        layout.load_split(tmp_path, "train", 30, 50)
