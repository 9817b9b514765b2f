"""Configuration of the ABAW expression-recognition runs.

Every value the paper does not state (sizes, dropout rates, focal gamma/alpha, window) is our chosen
default, tagged [R] in the README; lengths are in video frames unless a field says otherwise.
"""

from __future__ import annotations

import dataclasses

from raylab.config import require_positive

ALPHAS = ("inverse_frequency", "none")
PLACEMENTS = ("auto", "PACK", "SPREAD")


@dataclasses.dataclass
class SyntheticConfig:
    """The feature-level stand-in for Aff-Wild2, written in its file layout."""

    train_videos: int = 30  # annotated training videos (some are _left/_right pairs)
    val_videos: int = 12  # annotated validation videos
    min_frames: int = 600  # shortest video, frames
    max_frames: int = 1500  # longest video, frames
    pair_fraction: float = 0.2  # fraction of videos written as a _left/_right pair sharing one audio track
    visual_dim: int = 64  # visual feature size (BEiT-large's is 1024: smaller here to keep CI fast)
    audio_dim: int = 64  # audio feature size (WavLM-large's is 1024)
    segment_shape: float = 2.0  # label segments last Gamma(shape, scale) + min_segment frames
    segment_scale: float = 40.0  # ... Gamma scale, frames
    min_segment: int = 5  # ... shortest segment, frames
    visual_signal: float = 0.6  # weight of the class prototype in a visual frame
    identity_std: float = 0.8  # std of the per-video visual offset (who is on screen)
    audio_signal: float = 0.42  # weight of the class prototype in an audio frame
    audio_identity: float = 0.6  # weight of the per-video audio offset
    audio_smooth: int = 9  # audio frames are box-smoothed over this many frames, then scaled by 2
    face_missing_runs: int = 2  # runs of 10-80 frames without a face per video (most videos)
    face_missing_in_train: bool = False  # off: the no-dropout model never sees a missing face
    impulsive_rate: float = 0.0  # fraction of frames whose visual vector shows a wrong class (0 = off)

    def __post_init__(self):
        require_positive(
            **{
                "synthetic.train_videos": self.train_videos,
                "synthetic.val_videos": self.val_videos,
                "synthetic.min_frames": self.min_frames,
                "synthetic.visual_dim": self.visual_dim,
                "synthetic.audio_dim": self.audio_dim,
            }
        )
        if self.max_frames < self.min_frames:
            raise ValueError("synthetic.max_frames must be >= synthetic.min_frames")
        if not 0 <= self.impulsive_rate < 1 or not 0 <= self.pair_fraction <= 1:
            raise ValueError("synthetic.impulsive_rate must be in [0, 1), synthetic.pair_fraction in [0, 1]")


@dataclasses.dataclass
class DataConfig:
    """Where the challenge folders are (layout: raylab/methods/abaw/layout.py)."""

    root: str = ""  # folder holding EXPR_Recognition_Challenge/ and features/; "synthetic": generate one
    fps: float = 30.0  # video frame rate, frames/s
    audio_hz: float = 50.0  # rate of the audio feature files, rows/s (WavLM: 50)
    test_list: str = ""  # optional file of test video names (one per line): predicted into the submission
    features: str = ""  # folder with visual/ and audio/ feature files (read only; default <root>/features)
    visual_weights: str = ""  # local BEiT-style weights: extract visual features into <out>/features
    audio_weights: str = ""  # local WavLM-style weights: extract audio features from <root>/audio/*.wav
    synthetic: SyntheticConfig = dataclasses.field(default_factory=SyntheticConfig)  # when root: synthetic

    def __post_init__(self):
        require_positive(**{"data.fps": self.fps, "data.audio_hz": self.audio_hz})


@dataclasses.dataclass
class ModelConfig:
    """The dual-branch temporal transformer with safe cross-attention (raylab/methods/abaw/model.py)."""

    width: int = 32  # transformer width d [R]
    layers: int = 1  # self-attention layers per modality [R]
    heads: int = 4  # attention heads [R]
    dropout: float = 0.1  # dropout inside the transformer layers
    window: int = 128  # frames per training / inference window (50 % overlap at inference) [R]

    def __post_init__(self):
        require_positive(
            **{"model.width": self.width, "model.layers": self.layers, "model.heads": self.heads}
        )
        if self.width % self.heads:
            raise ValueError(f"model.width {self.width} must be divisible by model.heads {self.heads}")
        if self.window < 2:
            raise ValueError("model.window must be at least 2 frames")


@dataclasses.dataclass
class TrainConfig:
    """AdamW on the focal loss with modality dropout."""

    epochs: int = 8  # passes over the training windows
    batch_size: int = 16  # windows per optimiser step (split across data-parallel workers)
    lr: float = 1e-3  # AdamW step size
    weight_decay: float = 1e-2  # AdamW weight decay
    visual_dropout: float = 0.5  # p_v: probability of dropping the whole visual stream of a window [R]
    audio_dropout: float = 0.25  # p_a: same for audio (never both in one window) [R: 0.5 p_v]
    frame_mask: float = 0.0  # fraction of visual frames masked at random in training (our extra; README)
    focal_gamma: float = 2.0  # focal-loss gamma (0 = cross-entropy) [R: the standard default]
    focal_alpha: str = "inverse_frequency"  # class weights: inverse_frequency (normalised) | none
    workers: int = 1  # data-parallel Ray Train workers (more than 1 needs Ray, not --serial)
    placement: str = "auto"  # worker placement: auto (PACK on one node, SPREAD on several) | PACK | SPREAD

    def __post_init__(self):
        require_positive(
            **{
                "train.epochs": self.epochs,
                "train.batch_size": self.batch_size,
                "train.workers": self.workers,
            }
        )
        if not (0 <= self.visual_dropout <= 1 and 0 <= self.audio_dropout < 1 and 0 <= self.frame_mask < 1):
            raise ValueError("train.visual_dropout must be in [0, 1], audio_dropout and frame_mask in [0, 1)")
        if self.focal_gamma < 0:
            raise ValueError("train.focal_gamma must be >= 0")
        if self.focal_alpha not in ALPHAS:
            raise ValueError(
                f"train.focal_alpha must be one of {', '.join(ALPHAS)}, not '{self.focal_alpha}'"
            )
        if self.placement not in PLACEMENTS:
            raise ValueError(
                f"train.placement must be one of {', '.join(PLACEMENTS)}, not '{self.placement}'"
            )
        if self.batch_size % self.workers:
            raise ValueError(
                f"train.batch_size {self.batch_size} must be divisible by train.workers {self.workers}"
            )


@dataclasses.dataclass
class AbawConfig:
    """One expression-recognition study: train, validate, soft-vote, write the challenge submission."""

    seed: int = 0  # run seed (data generation, initialisation, shuffling, dropout: derived by name)
    seeds: int = 4  # abaw/synthetic: training seeds per arm (claims average or take the worst over them)
    vote_window: int = 9  # sliding soft-voting window, frames (odd) [R]
    device: str = "auto"  # auto | cpu | cuda
    data: DataConfig = dataclasses.field(default_factory=DataConfig)  # the challenge folders
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)  # the network
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)  # the optimisation

    def __post_init__(self):
        require_positive(seeds=self.seeds, vote_window=self.vote_window)
        if self.vote_window % 2 == 0:
            raise ValueError(f"vote_window must be odd (a centred window), not {self.vote_window}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not '{self.device}'")
