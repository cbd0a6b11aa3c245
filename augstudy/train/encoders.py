"""Encoders f by name: ``@encoder("name")`` registers a factory, ``build_encoder`` makes one.

A factory takes the input ``image_size`` (pixels, the larger side) plus its own keyword params and
returns an ``nn.Module`` mapping ``[B, 3, H, W]`` to the pooled representation h ``[B, out_dim]``
with an ``out_dim`` attribute (as timm's ``@register_model``: the name comes with the function).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import torch
from torch import nn
from torchvision.models import resnet as tv_resnet

from ..registry import Registry
from ..errors import AugstudyError, ParamsError, PluginError, RegistrationError

EncoderFactory = Callable[..., nn.Module]


def _check(name: str, factory: Any) -> None:
    if not callable(factory):
        raise RegistrationError(f"@encoder({name!r}) needs a factory function or class")


REGISTRY: Registry[EncoderFactory] = Registry("encoder", entry_point_group="augstudy.encoders", check=_check,
                                              name_pattern=r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")

#: Inputs up to this size (pixels) get the CIFAR stem: 3x3 stride-1 convolution, no max-pool.
CIFAR_STEM_MAX_SIZE = 64


def encoder(name: str) -> Callable[[EncoderFactory], EncoderFactory]:
    """Register ``factory(image_size, **params) -> nn.Module`` (with ``out_dim``) as ``name``."""
    return REGISTRY.register(name)


def available_encoders() -> list[str]:
    """Names of every registered encoder."""
    return REGISTRY.names()


def get_encoder(name: str) -> EncoderFactory:
    """The factory registered as ``name``; an unknown name raises one line listing the known ones."""
    return REGISTRY.get(name)


def check_encoder(name: str, params: dict[str, Any], image_size: int = 32) -> None:
    """Build the encoder on PyTorch's meta device (no memory, no arithmetic): a bad param (an unknown
    key, ``widths: [-5]``, a wrong type) fails at spec load in one line instead of in every cell.

    What could depend on the real image size (or on data) is left to the cell: any other exception
    from a plugin's factory is not reported here.
    """
    try:
        with torch.device("meta"):
            build_encoder(name, image_size, **params)
    except AugstudyError:
        raise
    except (TypeError, ValueError) as e:
        raise ParamsError(f"encoder {name!r} cannot be built with encoder_params {params!r}: {e}") from None
    except Exception:  # noqa: BLE001 - e.g. a size-dependent check; the cell reports it with its traceback
        pass


def build_encoder(name: str, image_size: int, **params: Any) -> nn.Module:
    """The encoder registered as ``name`` for ``image_size`` px inputs; bad names/params raise one line."""
    factory = get_encoder(name)
    accepted = [p for p in inspect.signature(factory).parameters if p != "image_size"]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ParamsError(f"encoder {name!r} has no param {unknown[0]!r}; its params are: {', '.join(accepted) or 'none'}")
    model = factory(image_size=int(image_size), **params)
    if not isinstance(getattr(model, "out_dim", None), int):
        raise PluginError(f"encoder {name!r} must return an nn.Module with an integer out_dim attribute")
    return model


class ResNetEncoder(nn.Module):
    """A ResNet trunk (stem, stages of residual blocks) + global average pool; ``out_dim`` = last width."""

    def __init__(self, stem: nn.Module, stages: nn.Module, out_dim: int) -> None:
        super().__init__()
        self.stem = stem
        self.stages = stages
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(nn.functional.adaptive_avg_pool2d(self.stages(self.stem(x)), 1), 1)


def _init(model: nn.Module, zero_init_residual: bool) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, tv_resnet.BasicBlock):
                nn.init.zeros_(m.bn2.weight)
            elif isinstance(m, tv_resnet.Bottleneck):
                nn.init.zeros_(m.bn3.weight)


def _torchvision_resnet(builder: Callable[..., tv_resnet.ResNet], image_size: int, zero_init_residual: bool) -> ResNetEncoder:
    net = builder(weights=None, zero_init_residual=zero_init_residual)
    if image_size <= CIFAR_STEM_MAX_SIZE:
        stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), net.bn1, net.relu)
        _init(stem, False)
    else:
        stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
    stages = nn.Sequential(net.layer1, net.layer2, net.layer3, net.layer4)
    return ResNetEncoder(stem, stages, net.fc.in_features)


@encoder("resnet18")
def resnet18(image_size: int, zero_init_residual: bool = False) -> nn.Module:
    """torchvision ResNet-18 (h: 512-d); CIFAR stem for inputs up to 64 px, the standard stem above."""
    return _torchvision_resnet(tv_resnet.resnet18, image_size, zero_init_residual)


@encoder("resnet50")
def resnet50(image_size: int, zero_init_residual: bool = False) -> nn.Module:
    """torchvision ResNet-50 (h: 2048-d); CIFAR stem for inputs up to 64 px, the standard stem above."""
    return _torchvision_resnet(tv_resnet.resnet50, image_size, zero_init_residual)


@encoder("resnet-tiny")
def resnet_tiny(image_size: int, widths: Sequence[int] = (16, 32, 64, 128), blocks: Sequence[int] = (1, 1, 1, 1),
                stem_stride: int | None = None, zero_init_residual: bool = False) -> nn.Module:
    """A small CPU-friendly ResNet of BasicBlocks (h: last width, 128-d by default).

    ``stem_stride`` defaults to 2 for inputs up to 64 px (a 32 px image enters the stages at
    16 px) and 4 above (3x3 conv stride 2 then max-pool); each later stage halves the size.
    """
    widths, blocks = list(widths), list(blocks)
    if not widths or len(widths) != len(blocks) or min(widths) < 1 or min(blocks) < 1:
        raise ParamsError(f"encoder 'resnet-tiny': widths {widths} and blocks {blocks} must be positive lists of one length")
    if stem_stride is None:
        stem_stride = 2 if image_size <= CIFAR_STEM_MAX_SIZE else 4
    if stem_stride not in (1, 2, 4):
        raise ParamsError(f"encoder 'resnet-tiny' param stem_stride={stem_stride!r}; valid: 1, 2, 4")
    stem: list[nn.Module] = [nn.Conv2d(3, widths[0], 3, min(stem_stride, 2), 1, bias=False),
                             nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True)]
    if stem_stride == 4:
        stem.append(nn.MaxPool2d(3, 2, 1))
    stages, inplanes = [], widths[0]
    for i, (width, n) in enumerate(zip(widths, blocks)):
        layer = []
        for j in range(n):
            stride = 2 if (i > 0 and j == 0) else 1
            down = None
            if stride != 1 or inplanes != width:
                down = nn.Sequential(nn.Conv2d(inplanes, width, 1, stride, bias=False), nn.BatchNorm2d(width))
            layer.append(tv_resnet.BasicBlock(inplanes, width, stride, down))
            inplanes = width
        stages.append(nn.Sequential(*layer))
    model = ResNetEncoder(nn.Sequential(*stem), nn.Sequential(*stages), widths[-1])
    _init(model, zero_init_residual)
    return model


class ConvNetEncoder(nn.Module):
    """Plain strided convolutions (3x3, BN, ReLU), then global average pooling; ``out_dim`` = last width."""

    def __init__(self, widths: Sequence[int]) -> None:
        super().__init__()
        layers, inplanes = [], 3
        for width in widths:
            layers += [nn.Conv2d(inplanes, width, 3, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            inplanes = width
        self.features = nn.Sequential(*layers)
        self.out_dim = int(widths[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(nn.functional.adaptive_avg_pool2d(self.features(x), 1), 1)


@encoder("convnet")
def convnet(image_size: int, widths: Sequence[int] = (32, 64, 128, 256)) -> nn.Module:
    """A 4-layer strided convnet (h: 256-d), the cheapest encoder: about 4 M multiply-adds an image at 32 px.

    Each layer halves the size (32 px -> 2 x 2 before pooling); as cheap as ``resnet-tiny`` with twice its h.
    """
    widths = list(widths)
    if not widths or min(widths) < 1:
        raise ParamsError(f"encoder 'convnet': widths {widths} must be a non-empty list of positive ints")
    model = ConvNetEncoder(widths)
    _init(model, False)
    return model
