"""solarize: per image vs torchvision's functional solarize; p gates images; the draw replays."""
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from augstudy import ops


def images(b=6, seed=0):
    return torch.rand(b, 3, 20, 16, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 1.0])
def test_solarize_matches_torchvision_where_applied(threshold):
    x = images()
    x[0, :, 0, 0] = threshold  # a pixel exactly at the threshold is inverted (torchvision: >=)
    op = ops.build(f"solarize(threshold={threshold}, p=1.0)")
    mask = torch.tensor([True, False, True, True, False, True])
    y = op.apply(x, {"solarize": mask})
    assert y.shape == x.shape and y.dtype == x.dtype
    for i in range(6):
        ref = TF.solarize(x[i], threshold) if mask[i] else x[i]
        assert torch.equal(y[i], ref), (threshold, i)


def test_solarize_p_gates_images_and_replays():
    op = ops.build("solarize(p=0.5)")
    params = op.sample_params(400, torch.Generator().manual_seed(1), torch.device("cpu"))
    again = op.sample_params(400, torch.Generator().manual_seed(1), torch.device("cpu"))
    assert torch.equal(params["solarize"], again["solarize"])
    assert 120 < int(params["solarize"].sum()) < 280
    assert not ops.build("solarize(p=0.0)").sample_params(50, torch.Generator(), torch.device("cpu"))["solarize"].any()


def test_solarize_listed_and_validated():
    assert "solarize" in ops.available()
    with pytest.raises(Exception, match="threshold"):
        ops.build("solarize(threshold=1.5)")
