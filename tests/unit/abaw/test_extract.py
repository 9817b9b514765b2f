"""Feature extraction from local backbone weights with tiny random BEiT / WavLM
models saved locally, as a user's save_pretrained copy would be: nothing is fetched from a hub."""

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import wavfile

from raylab import DataMissing
from raylab.methods.abaw import extract, layout

transformers = pytest.importorskip("transformers", reason="the abaw extra (pip install -e '.[abaw]')")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    beit = transformers.BeitConfig(
        image_size=32,
        patch_size=16,
        hidden_size=24,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=48,
        use_mean_pooling=True,
    )
    transformers.BeitModel(beit).save_pretrained(folder / "beit")
    transformers.BeitImageProcessorPil(
        size={"height": 32, "width": 32}, do_center_crop=False
    ).save_pretrained(folder / "beit")
    wavlm = transformers.WavLMConfig(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    transformers.WavLMModel(wavlm).save_pretrained(folder / "wavlm")
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(folder / "wavlm")
    return folder


def challenge(root, frames=6, missing=(3,)):
    layout.write_annotation(layout.annotation_dir(root, "train") / "v_left.txt", np.zeros(frames, dtype=int))
    faces = root / "cropped_aligned" / "v_left"
    faces.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(frames):
        if i + 1 not in missing:
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(
                faces / f"{i + 1:05d}.jpg"
            )
    (root / "audio").mkdir()
    wavfile.write(root / "audio" / "v.wav", 22050, (rng.standard_normal(22050 // 4) * 3000).astype(np.int16))


def test_features_are_extracted_into_the_run_folder_in_the_layout_the_reader_expects(tmp_path, weights):
    root, features = tmp_path / "data", tmp_path / "run" / "features"
    challenge(root)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    written = extract.extract_missing(
        root, features, ["v_left"], str(weights / "beit"), str(weights / "wavlm"), "cpu"
    )
    assert written == 2
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written beside the data
    visual = np.load(features / "visual" / "v_left.npy")
    assert (
        visual.shape == (6, 24) and np.isnan(visual[2]).all() and np.isfinite(np.delete(visual, 2, 0)).all()
    )
    audio = np.load(features / "audio" / "v.npy")
    assert audio.shape[1] == 16 and abs(len(audio) - 0.25 * 50) <= 1  # WavLM: 50 rows/s, a quarter second
    (video,) = layout.load_split(root, "train", fps=30, audio_hz=50, features=features)
    np.testing.assert_array_equal(video.vis_valid, [True, True, False, True, True, True])
    assert video.aud_valid.all()
    again = extract.extract_missing(
        root, features, ["v_left"], str(weights / "beit"), str(weights / "wavlm"), "cpu"
    )
    assert again == 0


def test_the_same_face_gives_the_same_features_as_the_model_itself(tmp_path, weights):
    challenge(tmp_path, frames=2, missing=())
    extract.extract_missing(tmp_path, tmp_path / "features", ["v_left"], str(weights / "beit"), "", "cpu")
    model = transformers.BeitModel.from_pretrained(weights / "beit").eval()
    image = (
        Image.open(tmp_path / "cropped_aligned" / "v_left" / "00001.jpg")
        .convert("RGB")
        .resize((32, 32), Image.BICUBIC)
    )
    pixels = (torch.tensor(np.asarray(image), dtype=torch.float32).permute(2, 0, 1)[None] / 255 - 0.5) / 0.5
    with torch.no_grad():
        expected = model(pixel_values=pixels).pooler_output[0].numpy()
    np.testing.assert_allclose(
        np.load(tmp_path / "features" / "visual" / "v_left.npy")[0], expected, atol=1e-3
    )


def test_absent_weights_are_named_and_never_fetched(tmp_path):
    challenge(tmp_path)
    with pytest.raises(DataMissing, match="no config.json: raylab never downloads"):
        extract.extract_missing(
            tmp_path, tmp_path / "out", ["v_left"], str(tmp_path / "beit-large"), "", "cpu"
        )


def test_wav_is_resampled_and_scaled(tmp_path):
    wavfile.write(tmp_path / "a.wav", 8000, np.full(800, 16383, dtype=np.int16))
    samples = extract.read_wav(tmp_path / "a.wav", 16000)
    assert len(samples) == 1600
    assert samples[800] == pytest.approx(0.5, abs=1e-3)
