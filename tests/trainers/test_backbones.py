import pytest
import torch
import torchvision

from trainers.backbones import BACKBONES, build_backbone, register_backbone


def _shapes(backbone, size=64):
    with torch.no_grad():
        out = backbone.eval()(torch.zeros(1, 3, size, size))
    return {k: (v.shape[1], size // v.shape[-1]) for k, v in out.items()}


@pytest.mark.parametrize("name", ["tiny_test", "resnet18", "resnet50", "efficientnet_b0", "mobilenet_v3_large"])
def test_backbone_returns_four_levels_with_declared_channels_and_strides(name):
    bb = build_backbone(name)
    assert bb.strides == {"res2": 4, "res3": 8, "res4": 16, "res5": 32}
    assert _shapes(bb) == {k: (bb.out_channels[k], bb.strides[k]) for k in ("res2", "res3", "res4", "res5")}


def test_resnet50_channels_match_the_paper():
    assert build_backbone("resnet50").out_channels == {"res2": 256, "res3": 512, "res4": 1024, "res5": 2048}
    assert build_backbone("resnet18").out_channels == {"res2": 64, "res3": 128, "res4": 256, "res5": 512}


def test_every_required_backbone_is_registered():
    for name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                 "resnext101_32x8d", "efficientnet_b0", "mobilenet_v3_large", "tiny_test"):
        assert name in BACKBONES


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
        BACKBONES.pop("test_only_identity")


def test_an_unknown_backbone_names_the_registered_ones():
    with pytest.raises(KeyError, match="tiny_test"):
        build_backbone("nope")
