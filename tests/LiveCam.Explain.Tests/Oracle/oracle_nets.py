"""What the oracle scripts share: the robot model as PyTorch defines it (../shared/reference/long-range-perception.md),
and random batch-norm statistics for untrained classifiers."""
import torch.nn as nn


def randomise_batch_norms(net):
    """Untrained batch norms are identities in evaluation; random statistics make them count."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)


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
