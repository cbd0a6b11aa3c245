"""Filter operators: blur (Gaussian), sobel (edge magnitude), noise (additive Gaussian)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from pydantic import Field

from .base import Operator, OperatorParams, Params, draw_mask, draw_seed, draw_uniform, on_subset, ordered, per_image
from .color import grayscale
from .paths import uses_cpu_kernels
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
    weight = kernels[:, None, :].expand(b, c, size).reshape(shape)  # each image's kernel, once per channel
    out = F.conv2d(xp.reshape(1, b * c, *xp.shape[2:]), weight, groups=b * c)
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
        if uses_cpu_kernels(x.device):  # the CPU blurs only the drawn images
            if size > MAX_TAPS:  # large kernels (224 px: 23 taps): the compiled separable kernel
                if min(x.shape[2:]) <= size // 2:
                    gaussian_blur(x, sigma, size)  # raises the clear error
                from .cpu_kernels import gaussian_blur_cpu

                return gaussian_blur_cpu(x, gaussian_kernels(sigma, size), params["apply"])
            return on_subset(x, params["apply"], lambda xs, idx: gaussian_blur(xs, sigma.index_select(0, idx), size))
        return torch.where(per_image(params["apply"]), gaussian_blur(x, sigma, size), x)


@operator("sobel")
class Sobel(Operator):
    """Sobel edge magnitude of the grey image, divided by its per-image maximum, copied to 3 channels."""

    class Params(OperatorParams):
        p: float = Field(1.0, ge=0, le=1, description="probability of filtering an image")

    def sample_params(self, batch_size: int, generator: torch.Generator, device: torch.device) -> Params:
        return {"apply": draw_mask(generator, batch_size, self.p, device)}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        if uses_cpu_kernels(x.device):
            return on_subset(x, params["apply"], lambda xs, idx: sobel(xs))
        return torch.where(per_image(params["apply"]), sobel(x), x)


def sobel(x: torch.Tensor) -> torch.Tensor:
    """Edge magnitude ``sqrt(gx^2 + gy^2)`` of the grey image (replicate padding), max-normalised per image."""
    diff = torch.arange(3, device=x.device, dtype=x.dtype) - 1  # [-1, 0, 1]: built on the device, no host list
    smooth = 2 - diff.abs()  # [1, 2, 1]
    gx = smooth[:, None] * diff[None, :]  # [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
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
        if uses_cpu_kernels(device):
            seed = draw_seed(generator)  # a Python int (an .item(): free on the CPU)
        else:  # a seed tensor on the device: no host sync
            seed = torch.randint(0, 2**31, (1,), generator=generator, device=generator.device).to(device)
        return {"std": torch.where(apply, std, torch.zeros_like(std)), "seed": seed}

    def apply(self, x: torch.Tensor, params: Params) -> torch.Tensor:
        """The noise field is a pure function of ``params["seed"]`` (replayable): an int seeds a generator on
        x's device (the CPU path); a seed tensor (the tensor path) feeds :func:`hashed_normal`, sync-free."""
        seed = params["seed"]
        if isinstance(seed, torch.Tensor):
            noise = hashed_normal(seed, x.shape).to(x.dtype)
        else:
            gen = torch.Generator(device=x.device).manual_seed(seed)
            noise = torch.randn(x.shape, generator=gen, device=x.device, dtype=x.dtype)
        return noise.mul_(per_image(params["std"])).add_(x).clamp_(0.0, 1.0)


_MASK32 = 0xFFFFFFFF


def _hash32(v: torch.Tensor) -> torch.Tensor:
    """An integer hash of int64 values in [0, 2^32) (xorshift-multiply rounds; multipliers < 2^31, so no overflow)."""
    v = v ^ (v >> 16)
    v = (v * 0x7FEB352D) & _MASK32
    v = v ^ (v >> 15)
    v = (v * 0x5BD1E995) & _MASK32
    return v ^ (v >> 16)


def hashed_normal(seed: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Standard normal float32 noise of ``shape`` from a seed tensor (on its device), counter-based.

    Element i takes two uniforms from hashes of (seed, 2i) and (seed, 2i+1) and one Box-Muller normal:
    a fixed number of elementwise ops, no generator state and no host sync, the same on every device.
    """
    n = math.prod(shape)
    key = _hash32(seed.to(torch.int64) & _MASK32)
    counter = torch.arange(2 * n, device=seed.device, dtype=torch.int64)
    bits = _hash32(_hash32(counter ^ key) ^ key)
    u = ((bits >> 8).to(torch.float32) + 0.5) * (1.0 / 2**24)  # (0, 1): 24 random bits
    u1, u2 = u.view(n, 2).unbind(1)
    return (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos((2.0 * math.pi) * u2)).view(shape)
