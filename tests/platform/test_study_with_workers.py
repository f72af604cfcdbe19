"""A study through the REST API with real worker processes: killed in the middle of a trial,
it goes on with the next worker and finishes every trial, none lost or run twice."""
import pytest

from platform_api.studies.models import Study, Trial
from platform_api.training.models import Job
from tests.conftest import wait_for
from tests.factories import classification_zip
from tests.platform.flows import import_in_process

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_study_whose_worker_is_killed_mid_trial_finishes_all_its_trials(api, user, templates, start_worker,
                                                                           tmp_path):
    dataset = import_in_process(user, classification_zip(tmp_path / "colours.zip", per_class={"train": 24, "valid": 4}))
    doomed = start_worker("training,default", "doomed")
    study_id = api.post("/api/v1/studies/", {
        "template": "fai-cls", "dataset": dataset.pk, "name": "survivor", "n_trials": 3, "sampler": "random",
        "pruner": "none", "fixed": {"backbone": "resnet18", "resolution": 32, "epochs": 4, "batch_size": 4},
        "search_space": {"learning_rate": {"min": 0.003, "max": 0.03}},
    }, format="json").json()["id"]
    # Kill it once the second trial has checkpointed an epoch (its second is reported after).
    wait_for(lambda: Job.objects.filter(study_trial__study_id=study_id, study_trial__number=1,
                                        metrics_history__epoch=2).exists(), 240, message="trial 1's second epoch")
    doomed.kill()

    survivor = start_worker("training,default", "survivor")
    wait_for(lambda: Study.objects.get(pk=study_id).status in Study.FINAL, 300, message="the study to end")
    body = api.get(f"/api/v1/studies/{study_id}/").json()
    assert body["status"] == "succeeded", (body, survivor.log())
    assert body["trial_counts"] == {"running": 0, "complete": 3, "pruned": 0, "failed": 0}
    trials = Trial.objects.filter(study_id=study_id).select_related("job").order_by("number")
    assert [t.number for t in trials] == [0, 1, 2] and Job.objects.count() == 3  # none lost, none run twice
    assert trials[1].job.attempts == 2 and trials[1].job.resumed_from_epoch >= 1
    assert all(t.job.status == "succeeded" for t in trials)
    assert body["best_trial"]["model"] is not None
