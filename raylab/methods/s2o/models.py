"""Models that take inputs in [0, 1] (attacks see the raw pixel box), optionally normalising per channel
as their first layer (the official CIFAR models do not normalise).

MLP and a two-convolution CNN for CPU runs; PreActResNet-18 (He et al. 2016) and WRN-34-10
(Zagoruyko & Komodakis 2016) as in the official S2O / TRADES code for GPU runs. Every model exposes
its last linear layer as `.head` (the layer S2O's weight statistics are about).
"""

from __future__ import annotations

import math
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("mlp", "cnn", "preact_resnet18", "wrn34_10")


class Normalize(nn.Module):
    """(x - mean) / std per channel, inside the model."""

    mean: torch.Tensor  # buffers (register_buffer)
    std: torch.Tensor

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class MLP(nn.Module):
    """Flatten -> [Linear, ReLU] x 2 -> head (784-256-256-10 in the CPU configs)."""

    def __init__(self, in_features: int, hidden: int, classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU()
        )
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class SmallCNN(nn.Module):
    """Two 3x3 conv blocks (BatchNorm, ReLU, 2x2 max-pool), one hidden linear layer, head."""

    def __init__(self, channels: int, side: int, hidden: int, classes: int, width: int = 32):
        super().__init__()
        pooled = side // 4
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1),
            nn.BatchNorm2d(2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(2 * width * pooled * pooled, hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class PreActBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(cout), nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        return self.conv2(F.relu(self.bn2(out))) + skip


class PreActResNet18(nn.Module):
    def __init__(self, channels: int = 3, classes: int = 10):
        super().__init__()
        self.stem = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [PreActBlock(cin, cout, stride), PreActBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(512)
        self.head = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn(self.layers(self.stem(x))))
        return self.head(F.adaptive_avg_pool2d(out, 1).flatten(1))


def he_fan_out_init(net: nn.Module) -> None:
    """The official WideResNet's initialisation: conv weights N(0, 2 / (k * k * out_channels)),
    BatchNorm weight 1 and bias 0, linear bias 0 (linear weights keep torch's default)."""
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
            nn.init.normal_(module.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)


class WideResNet(nn.Module):
    """WRN-depth-widen with pre-activation basic blocks (TRADES' WRN-34-10: depth 34, widen 10),
    initialised as the official code (`he_fan_out_init`)."""

    def __init__(self, depth: int = 34, widen: int = 10, channels: int = 3, classes: int = 10):
        super().__init__()
        per_group = (depth - 4) // 6
        widths = [16, 16 * widen, 32 * widen, 64 * widen]
        self.stem = nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False)
        layers, cin = [], widths[0]
        for cout, stride in zip(widths[1:], (1, 2, 2)):
            for i in range(per_group):
                layers.append(PreActBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(cin)
        self.head = nn.Linear(cin, classes)
        he_fan_out_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn(self.layers(self.stem(x))))
        return self.head(F.adaptive_avg_pool2d(out, 1).flatten(1))


class Classifier(nn.Module):
    """Normalize (or identity) -> network; `.head` is the network's last linear layer."""

    def __init__(self, normalize: nn.Module, net: nn.Module):
        super().__init__()
        self.normalize, self.net = normalize, net

    @property
    def head(self) -> nn.Linear:
        # every network sets `self.head = nn.Linear(...)`; torch types module attributes Tensor | Module
        return cast(nn.Linear, self.net.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(x))


def build_model(
    arch: str,
    shape: tuple[int, ...],
    classes: int,
    hidden: int,
    mean: tuple,
    std: tuple,
    normalize: bool = True,
) -> Classifier:
    """The architecture `arch` for images of `shape` (channels, height, width) in [0, 1]; with
    `normalize`, (x - mean) / std per channel first, else the network sees x itself."""
    channels, side, _ = shape
    nets = {
        "mlp": lambda: MLP(channels * side * side, hidden, classes),
        "cnn": lambda: SmallCNN(channels, side, hidden, classes),
        "preact_resnet18": lambda: PreActResNet18(channels, classes),
        "wrn34_10": lambda: WideResNet(34, 10, channels, classes),
    }
    if arch not in nets:
        raise ValueError(f"model.arch must be one of {', '.join(ARCHS)}, not '{arch}'")
    return Classifier(Normalize(mean, std) if normalize else nn.Identity(), nets[arch]())
