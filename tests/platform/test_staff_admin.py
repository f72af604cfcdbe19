"""Staff's read-only admin views of datasets, jobs, models and deployments, and their two
actions (cancel a job, stop a deployment), which go through the same services as the API."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from platform_api.datasets.models import Dataset
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.training.models import Job
from training_templates.models import Template

pytestmark = pytest.mark.django_db
JOBS = "/admin/training/job/"
RUNNING = {"percent": 42.0, "epoch": 2, "epochs": 5, "step": 30, "steps": 75, "eta_seconds": 80.2}


@pytest.fixture
def staff():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", None))
    return client


@pytest.fixture
def rows(user, other_api):
    """Two owners' datasets and jobs on two templates; one model, deployed."""
    mallory = get_user_model().objects.get(username="mallory")
    cls = Template.objects.create(id="fai-cls", name="FAI-CLS", task="classification",
                                  dataset_tasks=["classification"], trainer="fai_cls")
    mf = Template.objects.create(id="fai-mf", name="FAI-MF", task="instance_segmentation",
                                 dataset_tasks=["instance_segmentation"], trainer="fai_mf")
    flowers = Dataset.objects.create(owner=user, name="flowers", format="classification_folder",
                                     task="classification", status="ready", archive_key="a", classes=["rose", "tulip"])
    broken = Dataset.objects.create(owner=mallory, name="broken", format="coco", task="instance_segmentation",
                                    status="failed", archive_key="b", error="annotations/instances_train.json: not JSON")
    jobs = {
        "running": Job.objects.create(owner=user, name="running", template=cls, dataset=flowers, trainer="fai_cls",
                                      status="running", progress=RUNNING, lease_owner="worker-1"),
        "queued": Job.objects.create(owner=mallory, name="queued", template=mf, dataset=broken, trainer="fai_mf"),
        "failed": Job.objects.create(owner=user, name="failed", template=cls, dataset=flowers, trainer="fai_cls",
                                     status="failed", error_code="weights_not_registered",
                                     error_message="no weights named 'imagenet' are registered for resnet50"),
        "succeeded": Job.objects.create(owner=user, name="succeeded", template=cls, dataset=flowers, trainer="fai_cls",
                                        status="succeeded"),
    }
    model = ModelVersion.objects.create(owner=user, job=jobs["succeeded"], template=cls, dataset=flowers,
                                        trainer="fai_cls", metrics={"accuracy": 0.93, "macro_f1": 0.91},
                                        classes=["rose", "tulip"], artifact_key="models/job-4")
    deployment = Deployment.objects.create(owner=user, model_version=model, status="ready")
    return {"jobs": jobs, "model": model, "deployment": deployment, "datasets": (flowers, broken)}


def listed(client, url, **filters):
    response = client.get(url, filters)
    assert response.status_code == 200
    return [row.pk for row in response.context["cl"].result_list]


def test_staff_see_every_owners_jobs_with_status_progress_and_error(staff, rows):
    page = staff.get(JOBS).content.decode()
    assert len(listed(staff, JOBS)) == 4
    assert "42% · epoch 2/5" in page
    assert "weights_not_registered: no weights named" in page
    detail = staff.get(f"{JOBS}{rows['jobs']['running'].pk}/change/").content.decode()
    assert "42% · epoch 2/5 · step 30/75 · 1 min 20 s left" in detail


def test_the_job_list_filters_by_status_owner_and_template(staff, rows, user):
    jobs = rows["jobs"]
    assert listed(staff, JOBS, status__exact="failed") == [jobs["failed"].pk]
    assert sorted(listed(staff, JOBS, owner__id__exact=user.pk)) == sorted(
        jobs[name].pk for name in ("running", "failed", "succeeded"))
    assert listed(staff, JOBS, template__id__exact="fai-mf") == [jobs["queued"].pk]


def test_datasets_models_and_deployments_are_listed_with_their_filters(staff, rows, user):
    flowers, broken = rows["datasets"]
    assert listed(staff, "/admin/datasets/dataset/", status__exact="failed") == [broken.pk]
    assert listed(staff, "/admin/datasets/dataset/", owner__id__exact=user.pk) == [flowers.pk]
    assert "annotations/instances_train.json: not JSON" in staff.get("/admin/datasets/dataset/").content.decode()
    assert listed(staff, "/admin/registry/modelversion/", template__id__exact="fai-cls") == [rows["model"].pk]
    assert "accuracy 0.93 · macro_f1 0.91" in staff.get("/admin/registry/modelversion/").content.decode()
    deployments = "/admin/deployments/deployment/"
    assert listed(staff, deployments, status__exact="ready", model_version__template__id__exact="fai-cls") == [
        rows["deployment"].pk]


def run_action(client, url, action, *ids):
    return client.post(url, {"action": action, "_selected_action": [str(i) for i in ids], "index": "0"}, follow=True)


def test_the_cancel_action_cancels_a_queued_job_and_asks_a_running_one_to_stop(staff, rows):
    queued, running = rows["jobs"]["queued"], rows["jobs"]["running"]
    response = run_action(staff, JOBS, "cancel_jobs", queued.pk, running.pk)
    queued.refresh_from_db()
    running.refresh_from_db()
    assert (queued.status, queued.cancel_requested) == ("cancelled", True)
    assert (running.status, running.cancel_requested) == ("running", True)  # its worker stops at the next step
    assert f"Cancelled 2 job(s) (running, asked to stop: {running.pk})." in response.content.decode()


def test_cancelling_a_job_that_ended_is_refused_with_the_services_reason(staff, rows):
    succeeded = rows["jobs"]["succeeded"]
    response = run_action(staff, JOBS, "cancel_jobs", succeeded.pk)
    succeeded.refresh_from_db()
    assert succeeded.status == "succeeded" and not succeeded.cancel_requested
    assert f"Not cancelled: job {succeeded.pk} has already ended (succeeded)" in response.content.decode()


def test_the_stop_action_stops_a_deployment(staff, rows):
    deployment = rows["deployment"]
    response = run_action(staff, "/admin/deployments/deployment/", "stop_deployments", deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == "stopped"
    assert "Stopped 1 deployment(s)." in response.content.decode()


def test_staff_who_may_only_view_jobs_cannot_cancel_them(rows):
    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = Client()
    client.force_login(viewer)
    assert len(listed(client, JOBS)) == 4
    queued = rows["jobs"]["queued"]
    run_action(client, JOBS, "cancel_jobs", queued.pk)
    queued.refresh_from_db()
    assert queued.status == "queued" and not queued.cancel_requested


@pytest.mark.parametrize("url", ["/admin/training/job/add/", "/admin/datasets/dataset/add/",
                                 "/admin/registry/modelversion/add/", "/admin/deployments/deployment/add/"])
def test_rows_are_not_added_here(staff, rows, url):
    assert staff.get(url).status_code == 403


def test_a_job_page_is_read_only(staff, rows):
    failed = rows["jobs"]["failed"]
    url = f"{JOBS}{failed.pk}/change/"
    assert "View job" in staff.get(url).content.decode()
    assert staff.post(url, {"name": "renamed", "status": "succeeded"}).status_code == 403
    assert staff.post(f"{JOBS}{failed.pk}/delete/", {"post": "yes"}).status_code == 403
    failed.refresh_from_db()
    assert (failed.name, failed.status) == ("failed", "failed")


def test_staff_see_every_user_s_registered_weights_read_only_under_the_platform_s_own_header(staff, user, other_api):
    mallory = get_user_model().objects.get(username="mallory")
    mine = PretrainedWeights.objects.create(owner=user, name="imagenet", architecture="resnet50",
                                            file_key="weights/1.pt", size_bytes=102_400_000)
    theirs = PretrainedWeights.objects.create(owner=mallory, name="in21k", architecture="resnet18",
                                              file_key="weights/2.pt", size_bytes=46_800_000)
    url = "/admin/registry/pretrainedweights/"
    assert listed(staff, url) == [theirs.pk, mine.pk]
    assert listed(staff, url, architecture="resnet50") == [mine.pk]
    page = staff.get(f"{url}{mine.pk}/change/").content.decode()
    assert "102.4 MB" in page and "weights/1.pt" in page
    assert "Training platform administration" in page and "Django administration" not in page
    assert staff.post(f"{url}{mine.pk}/delete/").status_code == 403  # read-only: deleting goes through the API
    assert PretrainedWeights.objects.count() == 2
