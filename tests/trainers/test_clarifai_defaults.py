"""RSB A1's learning rate follows how the network starts (an `auto` default)."""
import pytest

from trainers.clarifai_templates.hyperparameters import RSB_AUTO_PER_ITEM_LRATE, ResNetRSBA1Params
from trainers.families import resolve_hyperparameters

KEY = "clarifai_resnet50_rsb_a1"


@pytest.mark.parametrize("start, rate", [("None", 7.8125e-05), ("ImageNet-1k", 2.44140625e-06)])
def test_the_auto_rate_follows_pretrained_weights(start, rate):
    assert ResNetRSBA1Params.parse({"pretrained_weights": start}).per_item_lrate == rate
    assert RSB_AUTO_PER_ITEM_LRATE[start] == rate


def test_the_template_default_start_is_imagenet_and_gets_the_fine_tuning_rate():
    assert ResNetRSBA1Params.parse({}).per_item_lrate == RSB_AUTO_PER_ITEM_LRATE["ImageNet-1k"]


@pytest.mark.parametrize("values", [{"per_item_lrate": 0.001}, {"per_item_lrate": 0.001, "pretrained_weights": "None"}])
def test_an_explicit_rate_wins(values):
    assert ResNetRSBA1Params.parse(values).per_item_lrate == 0.001


def test_a_job_records_the_rate_it_will_train_with():
    resolved = resolve_hyperparameters(KEY, {"pretrained_weights": "None", "per_item_lrate": None, "batch_size": 8})
    assert resolved == {"pretrained_weights": "None", "per_item_lrate": 7.8125e-05, "batch_size": 8}


def test_an_unknown_start_is_refused_by_its_own_field_not_by_the_rule():
    with pytest.raises(Exception, match="pretrained_weights"):
        ResNetRSBA1Params.parse({"pretrained_weights": "ImageNet-22k"})
