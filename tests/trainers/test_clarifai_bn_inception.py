"""BN-Inception against Ioffe & Szegedy 2015, Figure 5."""
import pytest
import torch
from torch import nn

from trainers.clarifai_templates.bn_inception import BNInception

from clarifai_toys import one_torch_thread  # noqa: F401  (autouse)

# Output depth of each module, added up by hand from Figure 5's branch columns
# (#1x1 + #3x3 + double #3x3 + pool proj, or + input depth for a pass-through pool).
FIGURE_5_DEPTHS = {
    "3a": 64 + 64 + 96 + 32,  # 256
    "3b": 64 + 96 + 96 + 64,  # 320
    "3c": 0 + 160 + 96 + 320,  # 576: max pool passes 3b's 320 through
    "4a": 224 + 96 + 128 + 128,  # 576
    "4b": 192 + 128 + 128 + 128,  # 576
    "4c": 160 + 160 + 160 + 128,  # 608
    "4d": 96 + 192 + 192 + 128,  # 608
    "4e": 0 + 192 + 256 + 608,  # 1056
    "5a": 352 + 320 + 224 + 128,  # 1024
    "5b": 352 + 320 + 224 + 128,  # 1024
}


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    return BNInception().eval()


def test_it_has_the_papers_modules_in_order(network):
    assert list(network.inception) == ["3a", "3b", "3c", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]


def test_stem_is_a_7x7_stride_2_conv_then_1x1_and_3x3_convs(network):
    convs = [m for m in network.stem.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.stride, c.out_channels) for c in convs] == [
        ((7, 7), (2, 2), 64), ((1, 1), (1, 1), 64), ((3, 3), (1, 1), 192)]


def test_each_module_outputs_the_figure_5_depth(network):
    x = network.stem(torch.randn(1, 3, 64, 64))
    for name, module in network.inception.items():
        x = module(x)
        assert x.shape[1] == FIGURE_5_DEPTHS[name], name


def test_every_convolution_is_followed_by_batch_norm(network):
    layers = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    convs = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]
    assert len(convs) > 60
    for i in convs:
        assert isinstance(layers[i + 1], nn.BatchNorm2d)
        assert layers[i + 1].num_features == layers[i].out_channels
        assert layers[i].bias is None  # BN's shift replaces the bias


def test_modules_have_double_3x3_branches(network):
    for name, module in network.inception.items():
        kernels = [m.kernel_size for m in module.branch_double3x3.modules() if isinstance(m, nn.Conv2d)]
        assert kernels == [(1, 1), (3, 3), (3, 3)], name


def test_3c_and_4e_halve_the_resolution(network):
    x = network.stem(torch.randn(1, 3, 224, 224))
    assert x.shape[-1] == 28
    sizes = {}
    for name, module in network.inception.items():
        x = module(x)
        sizes[name] = x.shape[-1]
    assert sizes == {"3a": 28, "3b": 28, "3c": 14, "4a": 14, "4b": 14, "4c": 14, "4d": 14, "4e": 7,
                     "5a": 7, "5b": 7}


@pytest.mark.parametrize("size, final", [(32, 1), (48, 2), (224, 7)])
def test_it_runs_from_32_pixels_up(network, size, final):
    assert network(torch.randn(2, 3, size, size)).shape == (2, 1024, final, final)


def test_it_trains_at_32_pixels_with_a_batch_of_two():
    torch.manual_seed(0)
    model = BNInception().train()
    out = model(torch.randn(2, 3, 32, 32))
    out.mean().backward()
    assert model.stem[0][0].weight.grad.abs().sum() > 0
