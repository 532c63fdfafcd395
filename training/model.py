"""The digit network: a small CNN over the normalised glyph plus the glyph's size and place on the line.

About 4 M multiply-adds per glyph, so 40 glyphs take a few milliseconds on one core with onnxruntime.
"""

from __future__ import annotations

import torch
from torch import nn

from pipeline.ocr.glyphs import N_SCALARS, SHAPE


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class DigitNet(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.shape = nn.Sequential(
            *_conv(1, 16), nn.MaxPool2d(2),  # 12×12
            *_conv(16, 32), *_conv(32, 32), nn.MaxPool2d(2),  # 6×6
            *_conv(32, 64), *_conv(64, 64), nn.MaxPool2d(2),  # 3×3
            nn.Flatten(),
        )
        self.place = nn.Sequential(nn.Linear(N_SCALARS, 32), nn.ReLU(inplace=True))
        flat = 64 * (SHAPE // 8) ** 2
        self.head = nn.Sequential(nn.Linear(flat + 32, 128), nn.ReLU(inplace=True), nn.Dropout(0.2),
                                  nn.Linear(128, classes))

    def forward(self, shape: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        """Logits; `shape` is N×1×SHAPE×SHAPE in 0..1, `scalars` N×N_SCALARS."""
        return self.head(torch.cat([self.shape(shape), self.place(scalars)], dim=1))


class WithSoftmax(nn.Module):
    """What is exported: probabilities, so the run time needs no arithmetic of its own."""

    def __init__(self, net: DigitNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, shape: torch.Tensor, scalars: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(shape, scalars), dim=1)
