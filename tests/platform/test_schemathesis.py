"""The API answers as its OpenAPI document says: schemathesis, every check, against a live server.

`schemathesis run`, its command-line runner, tests every operation of /api/schema/ on
pytest-django's live server with every check (object-level authorization with a second user
whose token must not reach the first one's objects; 10 s as the longest answer), as a user
with rows that user owns so the ids in paths, filters and bodies name real objects: a ready dataset, a
trained model, its deployments, a job, registered weights (bodies and uploads:
schemathesis_hooks.py). Bounded and repeatable: a fixed number of examples per operation, a
fixed seed, deterministic generation, no example database or failure cache, a time limit on
every request and on the run. Jobs and imports it submits are captured, not queued.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import torch
from rest_framework.authtoken.models import Token

from platform_api.deployments import services as deployment_services
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.registry.services import register_weights
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from tests.conftest import ROOT
from tests.factories import classification_zip
from tests.platform.flows import FAST_FAI_CLS, import_in_process
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXAMPLES_PER_OPERATION = 8
MAX_RESPONSE_TIME_S = 10  # a failed check past this
REQUEST_TIMEOUT_S = 20
RUN_TIMEOUT_S = 240


@pytest.fixture
def rows(user, templates, tmp_path) -> dict:
    """The objects the run's ids name, all the user's; two deployments, so stopping one
    leaves the other to predict with."""
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    one_epoch = {**FAST_FAI_CLS, "epochs": 1}
    with queued(TRAIN_JOB):
        trained = submit_job(user, "fai-cls", dataset.pk, one_epoch, precision="fp32")
        run_job(trained.pk)
        waiting = submit_job(user, "fai-cls", dataset.pk, one_epoch)
    model = ModelVersion.objects.get(job=trained)
    deployments = [Deployment.objects.create(owner=user, model_version=model) for _ in range(2)]
    for deployment in deployments:
        deployment_services.load_deployment(deployment.pk)
    torch.save({"conv1.weight": torch.zeros(4, 3, 3, 3)}, tmp_path / "w.pt")
    weights = register_weights(user, "imagenet", "resnet18", tmp_path / "w.pt", (tmp_path / "w.pt").stat().st_size)
    return {"dataset": dataset.pk, "trained_job": trained.pk, "waiting_job": waiting.pk, "model": model.pk,
            "deployment": deployments[0].pk, "stopped_deployment": deployments[1].pk, "weights": weights.pk}


def schemathesis_config(auth_file: Path, rows: dict) -> str:
    """schemathesis.toml: every check (its default), the bounds, the users, and the ids."""
    pins = [  # path regex -> the row its `{id}` names
        ("^/api/v1/datasets/", rows["dataset"]),
        ("^/api/v1/jobs/[{]id[}]/(metrics/)?$", rows["trained_job"]),
        ("^/api/v1/jobs/[{]id[}]/cancel/$", rows["waiting_job"]),
        ("^/api/v1/models/", rows["model"]),
        ("^/api/v1/deployments/[{]id[}]/$", rows["deployment"]),
        ("^/api/v1/deployments/[{]id[}]/predict/$", rows["deployment"]),
        ("^/api/v1/deployments/[{]id[}]/stop/$", rows["stopped_deployment"]),
        ("^/api/v1/templates/", "fai-cls"),
        # GET only: a DELETE of it would leave the run's later weights/{id} requests a 404, and the
        # stateful phase deletes the weights it registers, by the ids their registration answered.
        ("^/api/v1/weights/[{]id[}]/$", rows["weights"], "GET"),
    ]
    lines = [
        'hooks = "tests.platform.schemathesis_hooks"',
        "seed = 20261202",
        f"request-timeout = {REQUEST_TIMEOUT_S}",
        "[auth.wfc]",  # requests as alice; her objects' reads replayed as mallory must not find them
        f"path = {json.dumps(str(auth_file))}",
        'user = "alice"',
        'peers = ["alice", "mallory"]',
        "[cache]",  # no failures replayed from an earlier run: each run is the same
        "enabled = false",
        "[checks]",
        f"max_response_time = {MAX_RESPONSE_TIME_S}",
        "[generation]",
        f"max-examples = {EXAMPLES_PER_OPERATION}",
        "deterministic = true",
        'database = "none"',
        "[parameters]",  # list filters name the user's rows (bodies: schemathesis_hooks.py)
        f'"query.dataset" = {rows["dataset"]}',
        f'"query.job" = {rows["trained_job"]}',
        f'"query.model_version" = {rows["model"]}',
        '"query.template" = "fai-cls"',
    ]
    for path_regex, row, *method in pins:
        lines += ["[[operations]]", f"include-path-regex = {json.dumps(path_regex)}"]
        lines += [f"include-method = {json.dumps(method[0])}"] if method else []
        lines += ["[operations.parameters]", f'"path.id" = {json.dumps(row)}']
        if path_regex.endswith("predict/$"):
            # The run's deployment is a classifier, which refuses the segmentation option
            # mask_threshold (400) by design: a schema cannot say which model a deployment serves.
            lines += ["[operations.checks.positive_data_acceptance]",
                      'expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]']
    return "\n".join(lines) + "\n"


def auth_file(path: Path, *users) -> Path:
    """The users' tokens, in the Web Fuzzing Commons form schemathesis reads."""
    auth = [{"name": user.username,
             "fixedHeaders": [{"name": "Authorization", "value": f"Token {Token.objects.get_or_create(user=user)[0].key}"}]}
            for user in users]
    path.write_text(json.dumps({"auth": auth}))
    return path


def test_the_api_answers_as_its_openapi_schema_says(live_server, user, django_user_model, rows, tmp_path):
    mallory = django_user_model.objects.create_user("mallory", password="pw")
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(auth_file(tmp_path / "auth.json", user, mallory), rows))
    # Deploys load their model before answering, so no loading thread outlives the test.
    with queued(TRAIN_JOB, IMPORT_DATASET), mock.patch.object(
        deployment_services, "_load_in_background", deployment_services.load_deployment
    ):
        run = subprocess.run(
            [str(SCHEMATHESIS), "--config-file", str(config), "run", f"{live_server.url}/api/schema/",
             "--checks", "all", "--no-color"],
            capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            # In tmp_path, Hypothesis' caches; from the checkout, the hooks module.
            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_DATASET_ID": str(rows["dataset"])},
        )
    assert run.returncode == 0, run.stdout[-30000:] + run.stderr[-3000:]
