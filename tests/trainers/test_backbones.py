import pytest
import torch
import torchvision

from trainers.backbone_names import BACKBONE_NAMES
from trainers.backbones import BACKBONE_FACTORIES, build_backbone, register_backbone


def _shapes(backbone, size=64):
    with torch.no_grad():
        out = backbone.eval()(torch.zeros(1, 3, size, size))
    return {k: (v.shape[1], size // v.shape[-1]) for k, v in out.items()}


@pytest.mark.parametrize("name", ["tiny_test", "resnet18", "resnet50", "efficientnet_b0", "mobilenet_v3_large", "stdc1", "stdc2"])
def test_backbone_returns_four_levels_with_declared_channels_and_strides(name):
    bb = build_backbone(name)
    assert bb.strides == {"res2": 4, "res3": 8, "res4": 16, "res5": 32}
    assert _shapes(bb) == {k: (bb.out_channels[k], bb.strides[k]) for k in ("res2", "res3", "res4", "res5")}


def test_resnet50_channels_match_the_paper():
    assert build_backbone("resnet50").out_channels == {"res2": 256, "res3": 512, "res4": 1024, "res5": 2048}
    assert build_backbone("resnet18").out_channels == {"res2": 64, "res3": 128, "res4": 256, "res5": 512}


def test_every_required_backbone_is_registered():
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                 "resnext101_32x8d", "efficientnet_b0", "mobilenet_v3_large", "stdc1", "stdc2", "tiny_test"):
        assert name in BACKBONE_FACTORIES


def test_every_backbone_a_family_offers_is_registered():
    assert set(BACKBONE_NAMES) <= set(BACKBONE_FACTORIES)


@pytest.mark.parametrize("name,head", [("resnet18", "fc."), ("efficientnet_b0", "classifier.")])
def test_a_torchvision_state_dict_loads_with_matching_keys(name, head):
    reference = getattr(torchvision.models, name)(weights=None)
    result = build_backbone(name).load_state_dict(reference.state_dict(), strict=False)
    assert result.missing_keys == []
    assert result.unexpected_keys and all(k.startswith(head) for k in result.unexpected_keys)


def test_register_backbone_adds_a_named_factory_and_refuses_duplicates():
    @register_backbone("test_only_identity")
    def factory():
        return torch.nn.Identity()

    try:
        assert isinstance(build_backbone("test_only_identity"), torch.nn.Identity)
        with pytest.raises(ValueError):
            register_backbone("test_only_identity")(lambda: None)
    finally:
        BACKBONE_FACTORIES.pop("test_only_identity")


def test_an_unknown_backbone_names_the_registered_ones():
    with pytest.raises(KeyError, match="tiny_test"):
        build_backbone("nope")


# The ImageNet classifier the STDC authors put on top (conv_last 1x1 + BN, fc, BN, linear to
# 1000 classes), which the paper's parameter and FLOP counts include.
STDC_HEAD_PARAMS = (1024 * 1024 + 2 * 1024) + 1024 * 1024 + 2 * 1024 + 1024 * 1000
STDC_HEAD_MACS = 7 * 7 * 1024 * 1024 + 1024 * 1024 + 1024 * 1000


def _conv_macs(model, size=224):
    macs = []

    def count(module, _, out):
        kernel = module.kernel_size[0] * module.kernel_size[1]
        macs.append(out[0].numel() * module.in_channels // module.groups * kernel)

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return sum(macs)


@pytest.mark.parametrize("name, params_m, mflops", [("stdc1", 8.44, 813), ("stdc2", 12.47, 1446)])
def test_stdc_matches_the_paper_s_size_and_cost(name, params_m, mflops):
    """STDCNet813 / STDCNet1446: 8.44M / 12.47M parameters with the ImageNet head; the names
    are their multiply-adds at 224x224 (convolutions count here; BN and pooling the rest)."""
    model = build_backbone(name)
    assert model.out_channels == {"res2": 64, "res3": 256, "res4": 512, "res5": 1024}
    params = sum(p.numel() for p in model.parameters()) + STDC_HEAD_PARAMS
    assert params / 1e6 == pytest.approx(params_m, abs=0.005)
    assert (_conv_macs(model) + STDC_HEAD_MACS) / 1e6 == pytest.approx(mflops, rel=0.015)


def test_stdc_modules_concatenate_halving_blocks_and_keep_the_authors_key_names():
    from trainers.backbones.stdc import block_widths

    assert block_widths(256, 4) == [128, 64, 32, 32] and block_widths(512, 2) == [256, 256]
    keys = build_backbone("stdc1").state_dict().keys()
    assert {"features.0.conv.weight", "features.2.avd_layer.0.weight", "features.2.conv_list.3.bn.running_var",
            "features.7.conv_list.0.conv.weight"} <= set(keys)
    assert not any(key.startswith("features.8") for key in keys)  # 2 + 2*3 modules
