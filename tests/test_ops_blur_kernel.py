"""The compiled CPU blur (kernels over 7 taps) gives the tensor blur's numbers and leaves undrawn images alone."""
import pytest
import torch

from augstudy import ops
from augstudy.ops.cpu_kernels import gaussian_blur_cpu
from augstudy.ops.filters import MAX_TAPS, blur_kernel_size, gaussian_blur, gaussian_kernels
from augstudy.ops.paths import tensor_path


@pytest.mark.parametrize("shape", [(4, 3, 96, 80), (2, 3, 91, 131)])
def test_kernel_matches_the_tensor_blur(shape):
    x = torch.rand(*shape, generator=torch.Generator().manual_seed(0))
    size = blur_kernel_size(min(shape[2:]))
    assert size > MAX_TAPS
    sigma = torch.tensor([0.1, 0.6, 2.0, 1.3][:shape[0]])  # 0.1: most taps underflow to 0 and are skipped
    apply = torch.tensor([True, True, False, True][:shape[0]])
    out = gaussian_blur_cpu(x, gaussian_kernels(sigma, size), apply)
    ref = gaussian_blur(x, sigma, size)
    for i in range(shape[0]):
        torch.testing.assert_close(out[i], ref[i] if apply[i] else x[i], rtol=0, atol=1e-6)


def test_blur_operator_cpu_and_tensor_paths_agree_at_large_sizes():
    x = torch.rand(6, 3, 72, 72, generator=torch.Generator().manual_seed(1))
    op = ops.build("blur(p=0.5)")
    params = op.sample_params(6, torch.Generator().manual_seed(2), x.device)
    with tensor_path():
        tensor = op.apply(x, params)
    torch.testing.assert_close(op.apply(x, params), tensor, rtol=0, atol=1e-6)
