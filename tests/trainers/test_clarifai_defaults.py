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


@pytest.mark.parametrize("epochs, init, step", [(60, 45, 60), (10, 8, 10), (1, 1, 1)])
def test_the_auto_schedule_decreases_the_rate_once_for_the_last_quarter(epochs, init, step):
    from trainers.clarifai_templates.hyperparameters import InceptionFamilyParams

    parsed = InceptionFamilyParams.parse({"num_epochs": epochs})
    assert (parsed.init_epochs, parsed.step_epochs) == (init, step)
    assert resolve_hyperparameters("clarifai_resnext", {"num_epochs": epochs, "init_epochs": None}) == {
        "num_epochs": epochs, "init_epochs": init}


@pytest.mark.parametrize("values, message", [
    ({"num_epochs": 10, "init_epochs": 25}, "init_epochs 25 is more than num_epochs 10"),
    ({"num_epochs": 10, "step_epochs": 11}, "step_epochs 11 is more than num_epochs 10"),
])
def test_a_schedule_beyond_the_run_is_refused(values, message):
    from trainers.core import TrainerError

    with pytest.raises(TrainerError, match=message):
        resolve_hyperparameters("clarifai_inception_batchnorm", values)
