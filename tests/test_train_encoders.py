"""Encoders by name: shapes, stems, the registry and its error messages."""
import pytest
import torch
from torch import nn

import augstudy
from augstudy.train import available_encoders, build_encoder, encoder


@pytest.mark.parametrize("name,dim", [("resnet-tiny", 128), ("resnet18", 512), ("convnet", 256)])
@pytest.mark.parametrize("size", [16, 32])
def test_pooled_representation_shape(name, dim, size):
    f = build_encoder(name, size)
    assert f.out_dim == dim
    assert f(torch.rand(2, 3, size, size)).shape == (2, dim)


def test_resnet50_dim_and_stems():
    small, large = build_encoder("resnet50", 32), build_encoder("resnet50", 96)
    assert small.out_dim == large.out_dim == 2048
    conv = small.stem[0]
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in small.stem)
    assert large.stem[0].kernel_size == (7, 7) and any(isinstance(m, nn.MaxPool2d) for m in large.stem)
    assert build_encoder("resnet18", 64).stem[0].stride == (1, 1)
    assert build_encoder("resnet18", 65).stem[0].stride == (2, 2)


def test_resnet_tiny_params():
    f = build_encoder("resnet-tiny", 32, widths=[8, 16], blocks=[1, 2], stem_stride=1)
    assert f.out_dim == 16 and f(torch.rand(2, 3, 32, 32)).shape == (2, 16)
    with pytest.raises(ValueError, match="stem_stride"):
        build_encoder("resnet-tiny", 32, stem_stride=3)


def test_convnet_halves_the_size_each_layer_and_checks_widths():
    f = build_encoder("convnet", 32, widths=[8, 16, 24])
    assert f.out_dim == 24 and f.features(torch.rand(2, 3, 32, 32)).shape == (2, 24, 4, 4)
    with pytest.raises(ValueError, match="widths"):
        build_encoder("convnet", 32, widths=[])


def test_unknown_encoder_and_param_are_one_clear_line():
    with pytest.raises(KeyError, match="registered: .*resnet-tiny.*resnet18") as e:
        build_encoder("resnet-tinny", 32)
    assert "did you mean 'resnet-tiny'" in str(e.value)
    with pytest.raises(ValueError, match="no param 'width'; its params are: widths"):
        build_encoder("resnet-tiny", 32, width=8)


def test_register_a_custom_encoder():
    assert augstudy.encoder is encoder

    @encoder("test-linear-encoder")
    def linear(image_size: int, dim: int = 7) -> nn.Module:
        m = nn.Sequential(nn.Flatten(), nn.Linear(3 * image_size * image_size, dim))
        m.out_dim = dim
        return m

    assert "test-linear-encoder" in available_encoders()
    assert build_encoder("test-linear-encoder", 8, dim=5)(torch.rand(2, 3, 8, 8)).shape == (2, 5)
