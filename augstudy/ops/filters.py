"""Filter operators: blur (Gaussian), sobel (edge magnitude), noise (additive Gaussian)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import Field

from .base import Operator, OperatorParams, Params, draw_mask, draw_seed, draw_uniform, on_subset, ordered, per_image
from .color import grayscale
from .registry import operator
from ..errors import ParamsError


def blur_kernel_size(side: int, fraction: float = 0.1) -> int:
    """Kernel size for an image side: ``int(fraction * side)``, made odd, at least 3 (32 px -> 3, 224 px -> 23)."""
    k = int(fraction * side)
    return max(3, k + 1 - k % 2)


def gaussian_kernels(sigma: torch.Tensor, size: int) -> torch.Tensor:
    """Normalised 1-D Gaussian kernels ``[B, size]`` for per-image ``sigma`` (torchvision's formula)."""
    half = (size - 1) * 0.5
    t = torch.linspace(-half, half, size, device=sigma.device)
    k = torch.exp(-0.5 * (t[None, :] / sigma[:, None]) ** 2)
    return k / k.sum(1, keepdim=True)


#: Kernels up to this size are applied as shifted multiply-adds (fast for small images); larger ones
#: as a grouped convolution (one group per image channel).
MAX_TAPS = 7


def _taps(xp: torch.Tensor, kernels: torch.Tensor, dim: int, n: int) -> torch.Tensor:
    """Sum over taps j of ``kernels[:, j] * xp.narrow(dim, j, n)`` (per-image weights)."""
    w = kernels[:, :, None, None, None]  # [B, k, 1, 1, 1]
    out = xp.narrow(dim, 0, n) * w[:, 0]
    for j in range(1, kernels.shape[1]):
        out.addcmul_(xp.narrow(dim, j, n), w[:, j])
    return out


def _grouped(xp: torch.Tensor, kernels: torch.Tensor, dim: int) -> torch.Tensor:
    """The same as :func:`_taps` as one grouped ``conv2d`` (a group per image channel)."""
    b, c = xp.shape[:2]
    size = kernels.shape[1]
    shape = (b * c, 1, size, 1) if dim == 2 else (b * c, 1, 1, size)
    out = F.conv2d(xp.reshape(1, b * c, *xp.shape[2:]), kernels.repeat_interleave(c, 0).reshape(shape), groups=b * c)
    return out.reshape(b, c, *out.shape[2:])


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, size: int) -> torch.Tensor:
    """Separable Gaussian blur of each image with its own ``sigma`` (kernel ``size``, reflect padding)."""
    if min(x.shape[2:]) <= size // 2:
        raise ParamsError(f"blur: kernel size {size} is too large for images of size {tuple(x.shape[2:])}")
    kernels = gaussian_kernels(sigma, size)
    pad = size // 2
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    h, w = x.shape[2:]
    if size <= MAX_TAPS:
        out = _taps(_taps(xp, kernels, 2, h), kernels, 3, w)
    else:
        out = _grouped(_grouped(xp, kernels, 2), kernels, 3)
    return out.clamp_(0.0, 1.0)  # the weights sum to 1 only up to rounding


@operator("blur")
class Blur(Operator):
    """Gaussian blur, sigma U[0.1, 2.0], kernel about 10% of the image side, applied with p (0.5 in the SimCLR pipeline)."""

    class Params(OperatorParams):
        sigma_min: float = Field(0.1, gt=0, le=100, description="smallest sigma (pixels)")
        sigma_max: float = Field(2.0, gt=0, le=100, description="largest sigma (pixels)")
        kernel_fraction: float = Field(0.1, gt=0, le=1, description="kernel size as a fraction of the image side (odd, >= 3)")
        p: float = Field(1.0, ge=0, le=1, description="probability of blurring an image")

        _range = ordered("sigma_min", "sigma_max")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"sigma": draw_uniform(generator, batch_size, device, self.sigma_min, self.sigma_max),
                "apply": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        size = blur_kernel_size(min(x.shape[2:]), self.kernel_fraction)
        sigma = params["sigma"]
        return on_subset(x, params["apply"], lambda xs, idx: gaussian_blur(xs, sigma.index_select(0, idx), size))


@operator("sobel")
class Sobel(Operator):
    """Sobel edge magnitude of the grey image, divided by its per-image maximum, copied to 3 channels."""

    class Params(OperatorParams):
        p: float = Field(1.0, ge=0, le=1, description="probability of filtering an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"apply": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        return on_subset(x, params["apply"], lambda xs, idx: sobel(xs))


def sobel(x: torch.Tensor) -> torch.Tensor:
    """Edge magnitude ``sqrt(gx^2 + gy^2)`` of the grey image (replicate padding), max-normalised per image."""
    gx = x.new_tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    weight = torch.stack([gx, gx.t()])[:, None]
    g = F.conv2d(F.pad(grayscale(x), (1, 1, 1, 1), mode="replicate"), weight)
    mag = g.square().sum(1, keepdim=True).sqrt_()
    mag /= mag.amax((2, 3), keepdim=True).clamp_min(1e-6)
    return mag.clamp_(0.0, 1.0).expand(-1, 3, -1, -1).contiguous()


@operator("noise")
class Noise(Operator):
    """Additive Gaussian noise, per-pixel and per-channel, std U[std_min, std_max] per image, clamped to [0, 1]."""

    class Params(OperatorParams):
        std_min: float = Field(0.05, ge=0, le=1, description="smallest noise std (in [0, 1] pixel units)")
        std_max: float = Field(0.15, ge=0, le=1, description="largest noise std (in [0, 1] pixel units)")
        p: float = Field(1.0, ge=0, le=1, description="probability of adding noise to an image")

        _range = ordered("std_min", "std_max")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        std = draw_uniform(generator, batch_size, device, self.std_min, self.std_max)
        apply = draw_mask(generator, batch_size, self.p, device)
        return {"std": torch.where(apply, std, torch.zeros_like(std)), "seed": draw_seed(generator)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """The noise field is drawn from a generator seeded with ``params["seed"]`` on x's device (replayable)."""
        gen = torch.Generator(device=x.device).manual_seed(params["seed"])
        noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        return noise.mul_(per_image(params["std"])).add_(x).clamp_(0.0, 1.0)
