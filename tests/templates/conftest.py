"""Fixtures for the templates domain: a small Clarifai-like template and API clients."""
from typing import Literal

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from training_templates.models import Hyperparameter, Template
from trainers.hyperparameters import Hyperparameters, param
from trainers.families import TrainerFamily, register_family

# The language's own tests use small made-up templates of a made-up trainer that declares
# wide bounds, so the templates can narrow them. Real trainers are tested with the real
# catalogue (test_trainer_limits.py).
PERMISSIVE_TRAINER = "test_wide_trainer"


class WideHyperparameters(Hyperparameters):
    logreg: int = param(1, "sigmoid (1) or softmax (0)", ge=0, le=1, step=1)
    image_size: int = param(256, "minimum side", ge=16, le=4096, step=16)
    batch_size: int = param(32, "images per step", ge=1, le=1024, step=1)
    per_item_lrate: float = param(0.000234375, "learning rate per item", ge=0.0)
    flip_probability: float = param(0.5, "flip probability", ge=0.0, le=1.0)
    flip_direction: Literal["horizontal", "vertical"] = param("horizontal", "flip direction")
    num_items_per_epoch: int | None = param(None, "images per epoch; null = the split's size", ge=1)
    lr: float = param(0.001, "learning rate", ge=0.0, le=10.0, log_scale=True)
    multi_label: bool = param(False, "several classes per image")
    epochs: int = param(10, "passes over the data", ge=1, le=1000, step=1)




def _not_trainable(*args, **kwargs):
    raise AssertionError(f"{PERMISSIVE_TRAINER} only declares hyperparameters")


register_family(TrainerFamily(key=PERMISSIVE_TRAINER, name="a test trainer", hyperparameters=WideHyperparameters,
                              tasks=("classification",), recipe=_not_trainable, exportable=_not_trainable))

# Bounds and steps as Clarifai's documentation declares them for Clarifai_InceptionBatchNorm.
INCEPTION_PARAMS = [
    dict(name="logreg", type="int", default=1, minimum=0, maximum=1, step=1),
    dict(name="image_size", type="int", default=256, minimum=32, maximum=1024, step=16),
    dict(name="batch_size", type="int", default=32, minimum=1, maximum=128, step=1),
    dict(name="per_item_lrate", type="float", default=0.000234375, minimum=0.0),
    dict(name="flip_probability", type="float", default=0.5, minimum=0.0, maximum=1.0, step=0.1),
    dict(name="flip_direction", type="enum", default="horizontal", choices=["horizontal", "vertical"]),
    dict(name="num_items_per_epoch", type="int", default=None, minimum=1),
]


def make_template(template_id="Clarifai_InceptionBatchNorm", params=INCEPTION_PARAMS, **fields):
    template = Template.objects.create(
        id=template_id,
        name=fields.pop("name", template_id),
        task=fields.pop("task", "classification"),
        dataset_tasks=fields.pop("dataset_tasks", ["classification"]),
        trainer=fields.pop("trainer", PERMISSIVE_TRAINER),
        **fields,
    )
    for position, p in enumerate(params):
        Hyperparameter.objects.create(template=template, position=position, **p)
    return template


@pytest.fixture
def template(db):
    return make_template()


def _client_for(username, staff):
    user = get_user_model().objects.create_user(username, password=None, is_staff=staff)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def user_client(db):
    return _client_for("reader", staff=False)


@pytest.fixture
def staff_client(db):
    return _client_for("staffer", staff=True)
