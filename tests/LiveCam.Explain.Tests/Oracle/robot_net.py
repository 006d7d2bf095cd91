"""The robot model as PyTorch defines it (../shared/reference/long-range-perception.md), for the oracle scripts."""
import torch.nn as nn


class RobotNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(10, 10, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(10, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.decoder = nn.Sequential(nn.Dropout(0.2), nn.Linear(640, 256), nn.ReLU(), nn.Linear(256, 325), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x).flatten(1))
