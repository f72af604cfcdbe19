import torch
import torchvision
from torch import nn

from trainers.backbones import build_backbone
from trainers.weights import load_pretrained


class BackboneWithHead(nn.Module):
    def __init__(self, num_classes: int):
        super().__init__()
        self.backbone = build_backbone("resnet18")
        self.head = nn.Linear(512, num_classes)


def test_a_bare_torchvision_state_dict_fills_the_backbone_and_reports_the_rest(tmp_path):
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    model = BackboneWithHead(num_classes=3)

    report = load_pretrained(model, tmp_path / "resnet18.pth")

    backbone_keys = {"backbone." + k for k in reference.state_dict() if not k.startswith("fc.")}
    assert set(report.loaded) == backbone_keys
    assert report.unexpected == ["fc.weight", "fc.bias"]
    assert report.missing == ["head.bias", "head.weight"]
    assert report.mismatched_shapes == []
    assert torch.equal(model.backbone.layer3[1].conv2.weight, reference.layer3[1].conv2.weight)
    assert torch.equal(model.backbone.bn1.running_var, reference.bn1.running_var)


def test_a_full_model_state_dict_skips_tensors_whose_shape_differs(tmp_path):
    source = BackboneWithHead(num_classes=10)
    torch.save({"state_dict": {"module." + k: v for k, v in source.state_dict().items()}}, tmp_path / "ckpt.pt")
    model = BackboneWithHead(num_classes=3)
    head_before = model.head.weight.clone()

    report = load_pretrained(model, tmp_path / "ckpt.pt")

    assert report.mismatched_shapes == ["head.weight: (10, 512) -> (3, 512)", "head.bias: (10,) -> (3,)"]
    assert report.missing == ["head.bias", "head.weight"] and report.unexpected == []
    assert torch.equal(model.head.weight, head_before)
    assert torch.equal(model.backbone.conv1.weight, source.backbone.conv1.weight)
    assert "shape-mismatched 2" in report.summary()


def test_an_mmpretrain_style_file_with_backbone_prefixed_keys_loads(tmp_path):
    reference = torchvision.models.resnet18(weights=None)
    plain = nn.Sequential()  # a module laid out like torchvision's ResNet, without a prefix
    plain.add_module("body", torchvision.models.resnet18(weights=None))
    torch.save({"state_dict": {"backbone." + k: v for k, v in reference.state_dict().items() if not k.startswith("fc.")}},
               tmp_path / "mm.pth")
    report = load_pretrained(plain, tmp_path / "mm.pth", prefixes=("body.",))
    assert len(report.loaded) == len([k for k in reference.state_dict() if not k.startswith("fc.")])
    assert torch.equal(plain.body.layer2[0].conv1.weight, reference.layer2[0].conv1.weight)


def test_a_file_of_which_nothing_fits_fails_instead_of_training_from_random_weights(tmp_path):
    import pytest

    from trainers.core import TrainerError

    torch.save({"encoder.block1.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    model = BackboneWithHead(num_classes=3)
    before = model.backbone.conv1.weight.clone()
    with pytest.raises(TrainerError) as caught:
        load_pretrained(model, tmp_path / "other.pth")
    assert caught.value.code == "pretrained_weights_unusable" and "encoder.block1.weight" in caught.value.message
    assert torch.equal(model.backbone.conv1.weight, before)
