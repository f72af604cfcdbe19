"""Console pages a newcomer met broken, in headless Chromium at a laptop's 1400 x 900: the
models page shows each task's own metrics in a table of its own, with every Stop button in
view. Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`)."""
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from platform_api.datasets.models import Dataset
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from tests.templates.test_admin_browser import CHROMIUM, LAUNCH_ARGS, horizontal_overflow

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "console"
WINDOW = {"width": 1400, "height": 900}
METRICS = {
    "fai-cls": {"accuracy": 0.91, "f1_macro": 0.9, "precision_macro": 0.92, "recall_macro": 0.89, "num_samples": 40,
                "per_class": {"a": {"precision": 1, "recall": 1, "f1": 1, "support": 2}}},
    "fai-mf": {"segm/AP": 41.5, "segm/AP50": 60.1, "segm/AP75": 44.0, "segm/APs": 10.0, "segm/APm": 30.0,
               "segm/APl": 50.0, "segm/AR1": 20.0, "segm/AR10": 40.0, "segm/AR100": 45.0},
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


@pytest.fixture
def signed_in(live_server, transactional_db, templates, monkeypatch):
    """(page, user): alice signed in to the console in a 1400 x 900 window."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    user = get_user_model().objects.create_user("alice", password="s3cret-pw")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=WINDOW)
            page.set_default_timeout(20_000)
            page.goto(f"{live_server.url}/login/")
            page.fill("#id_username", "alice")
            page.fill("#id_password", "s3cret-pw")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/")
            yield page, user
        finally:
            browser.close()


def _model(user, template_id: str, task: str, n: int) -> ModelVersion:
    dataset = Dataset.objects.create(owner=user, name=f"{template_id}-data-{n}", format="coco", task=task,
                                     status="ready", archive_key=f"k{template_id}{n}", classes=["a", "b"])
    job = Job.objects.create(owner=user, name=f"run-{n}", template_id=template_id, dataset=dataset,
                             trainer=template_id.replace("-", "_"), status="succeeded")
    model = ModelVersion.objects.create(owner=user, job=job, template_id=template_id, dataset=dataset,
                                        trainer=job.trainer, metrics=METRICS[template_id], classes=["a", "b"],
                                        artifact_key=f"models/{n}")
    Deployment.objects.create(owner=user, model_version=model, status="ready")
    return model


def test_the_models_page_shows_each_task_s_metrics_and_every_stop_button(signed_in, live_server):
    page, user = signed_in
    for n in range(2):
        _model(user, "fai-cls", "classification", n)
        _model(user, "fai-mf", "instance_segmentation", 10 + n)
    page.goto(f"{live_server.url}/models/")
    page.wait_for_selector(".task-models[data-task=instance_segmentation] tbody tr")
    headers = {task: page.eval_on_selector_all(f".task-models[data-task={task}] th", "ths => ths.map(t => t.innerText)")
               for task in ("classification", "instance_segmentation")}
    assert "accuracy" in headers["classification"] and "segm/AP" not in headers["classification"]
    assert "segm/AP" in headers["instance_segmentation"] and "accuracy" not in headers["instance_segmentation"]
    assert horizontal_overflow(page) <= 0
    for stop in page.locator("button.stop").all():
        box = stop.bounding_box()
        assert box and box["x"] + box["width"] <= WINDOW["width"], box
    assert page.locator("button.stop").count() == 4
    page.screenshot(path=str(ARTIFACTS / "models-two-tasks.png"), full_page=True)


def test_deleting_asks_first_says_what_keeps_a_thing_and_then_deletes_it(signed_in, live_server):
    page, user = signed_in
    deployed = _model(user, "fai-cls", "classification", 0)
    spare = _model(user, "fai-cls", "classification", 1)
    spare.deployments.update(status="stopped")
    answers = []  # the person's answers to the confirmations, in order
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message),
                                      dialog.accept() if answers.pop(0) else dialog.dismiss()))

    page.goto(f"{live_server.url}/models/")
    row = page.locator(f"tr[data-model='{spare.pk}']")
    row.locator("button.delete").wait_for()
    assert page.locator(f"tr[data-model='{deployed.pk}'] button.delete").count() == 0  # stop it first
    answers.append(False)
    row.locator("button.delete").click()
    page.wait_for_timeout(300)
    assert ModelVersion.objects.filter(pk=spare.pk).exists() and "Delete model" in questions[-1]
    answers.append(True)
    row.locator("button.delete").click()
    row.wait_for(state="detached")
    assert not ModelVersion.objects.filter(pk=spare.pk).exists()

    page.goto(f"{live_server.url}/jobs/{deployed.job_id}/")  # its model keeps it
    answers.append(True)
    page.click("#delete-job")
    page.wait_for_selector("#delete-error:not([hidden])")
    assert f"model {deployed.pk}" in page.inner_text("#delete-error")
    assert Job.objects.filter(pk=deployed.job_id).exists()

    page.goto(f"{live_server.url}/datasets/{spare.dataset_id}/")  # its model is gone: it goes with its job
    answers.append(True)
    page.click("#delete-dataset")
    page.wait_for_url(f"{live_server.url}/datasets/")
    assert not Dataset.objects.filter(pk=spare.dataset_id).exists() and not Job.objects.filter(pk=spare.job_id).exists()
    assert len(questions) == 4


def test_the_new_job_form_shows_the_cost_from_the_speed_of_jobs_that_ran(signed_in, live_server):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import store_manifest

    page, user = signed_in
    dataset = store_manifest(Dataset.objects.create(owner=user, name="colours", format="classification_folder",
                                                    task="classification", status="ready", classes=["a", "b"],
                                                    splits={"train": 40}, num_images=40))
    started = timezone.now() - timedelta(hours=1)
    Job.objects.create(owner=user, template_id="fai-cls", dataset=dataset, trainer="fai_cls", status="succeeded",
                       hyperparameters={"backbone": "resnet18", "resolution": 224, "batch_size": 8, "epochs": 10},
                       progress={"step": 50, "steps": 50}, started_at=started, finished_at=started + timedelta(minutes=5))
    page.goto(f"{live_server.url}/jobs/new/?dataset={dataset.pk}")
    page.wait_for_function("document.getElementById('job-form').dataset.ready === 'true'")
    page.select_option("#hp-backbone", '"resnet18"')
    page.fill("#hp-batch_size", "8")
    page.fill("#hp-epochs", "20")  # 20 epochs of 5 steps of 8 images: twice the 5 min job
    page.wait_for_function("document.getElementById('job-cost').textContent.includes('20 epochs')")
    cost = page.text_content("#job-cost")
    assert "About 100 optimizer steps: 20 epochs of 5 steps of 8 images (40 training images)." in cost
    assert "Roughly 10 min 0 s at the speed of the last such job here." in cost
    page.fill("#hp-batch_size", "0")  # outside its bounds: not sent, said so
    page.wait_for_function("document.getElementById('job-cost').textContent.includes('once the values are valid')")


def test_the_new_job_form_asks_for_devices_and_says_beside_them_what_no_worker_offers(signed_in, live_server):
    from django.utils import timezone

    from platform_api.training.models import TrainingWorker
    from tests.factories import store_manifest

    page, user = signed_in
    dataset = store_manifest(Dataset.objects.create(owner=user, name="colours", format="classification_folder",
                                                    task="classification", status="ready", classes=["a", "b"],
                                                    splits={"train": 40}, num_images=40))
    page.goto(f"{live_server.url}/jobs/new/?dataset={dataset.pk}")
    page.wait_for_function("document.getElementById('job-form').dataset.ready === 'true'")
    page.fill("#hp-batch_size", "8")
    page.fill("#devices", "2")
    page.click("#submit-job")
    refusal = page.wait_for_selector('[data-errors-for="devices"] .error')
    assert "no training worker offers 2 devices" in refusal.text_content() and not Job.objects.exists()
    TrainingWorker.objects.create(name="two-gpus", devices=2, device_kind="cuda", last_seen=timezone.now())
    page.fill("#devices", "1")
    page.fill("#devices", "2")  # asks for the cost again, now that a worker offers 2
    page.wait_for_function("document.getElementById('job-cost').textContent.includes('on each of 2 devices')")
    assert "10 epochs of 3 steps of 8 images on each of 2 devices (40 training images)" in page.text_content("#job-cost")
    page.click("#submit-job")
    page.wait_for_url("**/jobs/*/")
    assert Job.objects.get().devices == 2


def test_a_study_is_made_in_its_form_and_its_page_shows_sortable_trials_and_optuna_s_figures(signed_in, live_server):
    from django.db import transaction

    from platform_api.studies import services
    from platform_api.studies.models import Study, Trial
    from platform_api.training.models import MetricsEntry
    from tests.factories import store_manifest
    from tests.queueing import TRAIN_JOB, queued

    page, user = signed_in
    dataset = store_manifest(Dataset.objects.create(owner=user, name="colours", format="classification_folder",
                                                    task="classification", status="ready", classes=["a", "b"],
                                                    splits={"train": 40}, num_images=40))
    page.goto(f"{live_server.url}/studies/new/?dataset={dataset.pk}")
    page.wait_for_function("document.getElementById('study-form').dataset.ready === 'true'")
    assert page.input_value("#template") == "fai-cls"
    page.fill("#n_trials", "3")
    page.fill("#max_parallel_trials", "3")
    page.select_option("#sampler", "random")
    row = page.locator('#space tr[data-name="learning_rate"]')
    row.locator(".mode").select_option("search")
    row.locator(".search-max").fill("5")  # beyond the template's bound: refused beside the row
    epochs = page.locator('#space tr[data-name="epochs"]')
    epochs.locator(".mode").select_option("fixed")
    epochs.locator(".fixed-value").fill("3")
    with queued(TRAIN_JOB):
        page.click("#submit-study")
        refusal = page.wait_for_selector('[data-errors-for="search_space.learning_rate"] .error')
        assert "max offers 5.0" in refusal.text_content() and not Study.objects.exists()
        row.locator(".search-max").fill("0.1")
        page.click("#submit-study")
        page.wait_for_url("**/studies/*/")
    study = Study.objects.get()
    assert study.fixed == {"epochs": 3} and set(study.search_space) == {"learning_rate"}

    # The workers' part, done here: each trial reports three epochs and succeeds, in one commit
    # (its study then sees a finished job, which no pruner stops).
    for trial, final in zip(Trial.objects.filter(study=study).order_by("number"), (0.6, 0.9, 0.75)):
        with transaction.atomic():
            for epoch in (1, 2, 3):
                MetricsEntry.objects.create(job=trial.job, epoch=epoch, step=epoch,
                                            metrics={"accuracy": final * epoch / 3}, monitor="accuracy")
            trial.job.status = "succeeded"
            trial.job.save(update_fields=["status"])
    services.advance(study.pk)

    page.wait_for_selector("#study-status.succeeded")
    page.wait_for_function("document.querySelectorAll('#trials tbody tr').length === 3")
    page.click('#trials th[data-key="value"]')  # sorts by value, best first
    values = page.eval_on_selector_all("#trials tbody td.value", "cells => cells.map(c => Number(c.textContent))")
    assert values == [0.9, 0.75, 0.6]
    assert "#1: 0.9000" in page.inner_text("#best-trial")
    for chart in ("history", "importances", "parallel"):
        page.wait_for_selector(f"#{chart}-chart .main-svg")
    assert horizontal_overflow(page) <= 0
