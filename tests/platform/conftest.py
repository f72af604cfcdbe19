"""Fixtures of the platform tests."""
import pytest

from platform_api.registry.models import ModelVersion
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from tests.factories import classification_zip
from tests.platform.flows import FAST_FAI_CLS, import_in_process
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued


@pytest.fixture
def model_version(user, templates, tmp_path):
    """A fai-cls model trained in this process on a small imported dataset."""
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    with queued(TRAIN_JOB):
        job = submit_job(user, "fai-cls", dataset.pk, FAST_FAI_CLS)
        run_job(job.pk)
    return ModelVersion.objects.get(job=job)


@pytest.fixture
def no_queue():
    """Nothing is sent to a broker: the test runs jobs and imports itself. Yields the mock
    that stands for the training queue."""
    with queued(TRAIN_JOB, IMPORT_DATASET) as (train, _):
        yield train


@pytest.fixture
def dataset(user, tmp_path, no_queue):
    """A small classification dataset imported in this process (a module may define its own)."""
    return import_in_process(user, classification_zip(tmp_path / "d.zip"))
