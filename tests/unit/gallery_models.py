"""Plain-PyTorch models written the way people write them (not with cnnviz's containers):
the gallery cnnviz.inspect must predict, every row with a formula, and torch confirm."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    """He et al. 2016: two 3x3 convolutions and `out += identity`."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet18(nn.Module):
    def __init__(self, width: int = 64, classes: int = 1000):
        super().__init__()
        w = [width, 2 * width, 4 * width, 8 * width]
        self.conv1 = nn.Conv2d(3, w[0], 7, 2, 3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], w[0]
        for i, c in enumerate(w):
            layers.append(nn.Sequential(BasicBlock(cin, c, 1 if i == 0 else 2), BasicBlock(c, c)))
            cin = c
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w[3], classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ResNetTrunk(ResNet18):
    """The same without its head: the output is a map, so it has a receptive field."""

    def __init__(self, width: int = 64):
        super().__init__(width)
        del self.avgpool, self.fc

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class DoubleConv(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Up(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cin // 2, 2, stride=2)
        self.conv = DoubleConv(cin, cout)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        return self.conv(torch.cat([x2, x1], dim=1))


class UNet(nn.Module):
    """Ronneberger et al. 2015, two levels: skips joined by torch.cat."""

    def __init__(self, cin: int = 3, classes: int = 2, w: int = 8):
        super().__init__()
        self.inc = DoubleConv(cin, w)
        self.down1 = nn.Sequential(nn.MaxPool2d(2), DoubleConv(w, 2 * w))
        self.down2 = nn.Sequential(nn.MaxPool2d(2), DoubleConv(2 * w, 4 * w))
        self.up1, self.up2 = Up(4 * w, 2 * w), Up(2 * w, w)
        self.outc = nn.Conv2d(w, classes, 1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        return self.outc(self.up2(self.up1(x3, x2), x1))


class SEBlock(nn.Module):
    """Hu et al. 2018, as its reference code writes it: pool, view, two linears, x * s."""

    def __init__(self, channels: int, reduction: int = 4):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction, bias=False),
                                nn.ReLU(inplace=True),
                                nn.Linear(channels // reduction, channels, bias=False),
                                nn.Sigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = self.avg_pool(x).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class SENet(nn.Module):
    """A conv, an SE gate written with x.mean and F.relu, and one with the class above."""

    def __init__(self, c: int = 16):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.reduce, self.expand = nn.Conv2d(c, c // 4, 1), nn.Conv2d(c // 4, c, 1)
        self.se = SEBlock(c)
        self.conv2 = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        x = F.relu(self.conv(x))
        s = torch.sigmoid(self.expand(F.relu(self.reduce(x.mean((2, 3), keepdim=True)))))
        x = x * s
        return self.conv2(self.se(x))


class FPN(nn.Module):
    """Lin et al. 2017's top-down path: F.interpolate, a lateral 1x1 and an add."""

    def __init__(self, c: int = 8):
        super().__init__()
        self.c1 = nn.Conv2d(3, c, 3, 2, 1)
        self.c2 = nn.Conv2d(c, 2 * c, 3, 2, 1)
        self.lat1, self.lat2 = nn.Conv2d(c, c, 1), nn.Conv2d(2 * c, c, 1)
        self.smooth = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        c1 = F.relu(self.c1(x))
        c2 = F.relu(self.c2(c1))
        p2 = self.lat2(c2)
        p1 = self.lat1(c1) + F.interpolate(p2, scale_factor=2, mode="nearest")
        up = F.interpolate(self.smooth(p1), size=(x.shape[2], x.shape[3]), mode="bilinear",
                           align_corners=False)
        return F.pad(up, (1, 1, 1, 1))


class DenseLayer(nn.Module):
    def __init__(self, cin: int, growth: int):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 4 * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(4 * growth)
        self.conv2 = nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        x = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(x)))


class DenseNetBlock(nn.Module):
    """Huang et al. 2017: every layer reads the concatenation of all before it."""

    def __init__(self, cin: int = 16, growth: int = 8, layers: int = 4):
        super().__init__()
        self.stem = nn.Conv2d(3, cin, 3, padding=1)
        self.layers = nn.ModuleList(DenseLayer(cin + i * growth, growth) for i in range(layers))
        c = cin + layers * growth
        self.transition = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c // 2, 1),
                                        nn.AvgPool2d(2, 2))

    def forward(self, x):
        features = [self.stem(x)]
        for layer in self.layers:
            features.append(layer(features))
        return self.transition(torch.cat(features, 1))


def channel_shuffle(x, groups: int):
    b, c, h, w = x.size()
    x = x.view(b, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleUnit(nn.Module):
    """Ma et al. 2018 (ShuffleNet V2), torchvision's way: chunk, branch, cat, shuffle."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.stride = stride
        half = cout // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
                nn.Conv2d(cin, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True))
        c2 = cin if stride > 1 else half
        self.branch2 = nn.Sequential(
            nn.Conv2d(c2, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True),
            nn.Conv2d(half, half, 3, stride, 1, groups=half, bias=False), nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias=False), nn.BatchNorm2d(half), nn.ReLU(inplace=True))

    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        return channel_shuffle(out, 2)


class ShuffleNet(nn.Module):
    def __init__(self, c: int = 24):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, c, 3, 2, 1, bias=False), nn.BatchNorm2d(c),
                                   nn.ReLU(inplace=True))
        self.stage2 = nn.Sequential(ShuffleUnit(c, 2 * c, 2), ShuffleUnit(2 * c, 2 * c, 1),
                                    ShuffleUnit(2 * c, 2 * c, 1))

    def forward(self, x):
        return self.stage2(self.conv1(x))


class ConvNeXtBlock(nn.Module):
    """Liu et al. 2022, as its reference code writes it: channels last between two permutes
    (LayerNorm and the two Linears per pixel), a layer scale, then the shortcut."""

    def __init__(self, dim: int):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1, self.act = nn.Linear(dim, 4 * dim), nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x):
        shortcut = x
        x = self.dwconv(x).permute(0, 2, 3, 1)
        x = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        return shortcut + x.permute(0, 3, 1, 2)


class ConvNeXtStage(nn.Module):
    def __init__(self, dim: int = 16):
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, 4)
        self.blocks = nn.Sequential(ConvNeXtBlock(dim), ConvNeXtBlock(dim))

    def forward(self, x):
        return self.blocks(self.stem(x))


GALLERY = {
    "resnet18": (lambda: ResNet18(width=8, classes=10), (3, 64, 64)),
    "resnet_trunk": (lambda: ResNetTrunk(width=8), (3, 64, 64)),
    "unet": (lambda: UNet(), (3, 32, 32)),
    "se": (lambda: SENet(), (3, 24, 24)),
    "fpn": (lambda: FPN(), (3, 32, 32)),
    "densenet": (lambda: DenseNetBlock(), (3, 24, 24)),
    "shufflenet": (lambda: ShuffleNet(), (3, 32, 32)),
    "convnext": (lambda: ConvNeXtStage(), (3, 64, 64)),
}
