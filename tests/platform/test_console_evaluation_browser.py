"""The evaluation a person acts on, in headless Chromium: a classification job and an
instance-segmentation job show their curves, per-class figures and worst examples (which open
larger); a model is evaluated on a second dataset from its job page; two models are compared
side by side. Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`)."""
import pytest

from platform_api.celery import EVALUATE_MODEL, app
from platform_api.registry.evaluations import run_evaluation
from platform_api.training.models import Job
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from tests.factories import coco_zip, mislabelled_zip
from tests.platform.flows import FAST_FAI_CLS, import_in_process
from tests.platform.test_console_pages_browser import ARTIFACTS, signed_in  # noqa: F401  (the fixture)
from tests.platform.test_fai_mf_through_the_api import TINY_FAI_MF
from tests.queueing import TRAIN_JOB, queued
from tests.templates.test_admin_browser import CHROMIUM

pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


def trained(user, template, dataset, hyperparameters) -> Job:
    with queued(TRAIN_JOB):
        job = submit_job(user, template, dataset.pk, hyperparameters)
        run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    return job


@pytest.fixture
def evaluations_run_inline(monkeypatch):
    """An evaluation the console queues runs at once, in the request's thread, after its commit."""
    send_task = app.send_task

    def send(name, args=(), **options):
        if name == EVALUATE_MODEL:
            run_evaluation(*args)
        else:
            send_task(name, args=args, **options)

    monkeypatch.setattr(app, "send_task", send)


def wait_report(page):
    page.wait_for_selector("#evaluation .per-class tbody tr")
    page.wait_for_selector("#evaluation .examples figure, #evaluation .examples-box .empty")


def test_reports_examples_a_second_dataset_and_a_comparison_in_the_console(signed_in, live_server, tmp_path,  # noqa: F811
                                                                          evaluations_run_inline):
    page, user = signed_in
    # Valid images drawn in the other class's colour: the model's report has mistakes to show.
    colours = import_in_process(user, mislabelled_zip(tmp_path / "c.zip", swapped="valid"), name="colours")
    second = import_in_process(user, mislabelled_zip(tmp_path / "s.zip", swapped="none"), name="second")
    first_job = trained(user, "fai-cls", colours, FAST_FAI_CLS)
    other_job = trained(user, "fai-cls", colours, {**FAST_FAI_CLS, "epochs": 1, "seed": 7})
    shapes = import_in_process(user, coco_zip(tmp_path / "shapes.zip"), fmt="coco", name="shapes")
    segmenter_job = trained(user, "fai-mf", shapes, {**TINY_FAI_MF, "epochs": 4})

    # A classification job: curves, per-class figures, its misclassified images opening larger.
    page.goto(f"{live_server.url}/jobs/{first_job.pk}/")
    wait_report(page)
    assert page.locator("#evaluation .pr-curves").get_attribute("data-curves") == "2"
    assert page.locator("#evaluation .per-class tbody tr").count() == 2
    assert page.locator("#evaluation .figures [data-metric=accuracy]").count() == 1
    examples = page.locator("#evaluation .examples figure")
    assert examples.count() >= 1
    examples.first.click()
    dialog = page.locator("dialog#example-view")
    dialog.wait_for(state="visible")
    assert "true" in dialog.locator(".caption").inner_text()
    assert dialog.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "evaluation-classification.png"), full_page=True)
    dialog.click()
    dialog.wait_for(state="hidden")

    # ... evaluated on a second dataset from the same page.
    page.select_option("#evaluate-dataset", str(second.pk))
    page.select_option("#evaluate-split", "test")
    page.click("#evaluate")
    row = page.locator("#evaluations tr[data-evaluation]").first
    row.locator(".status.succeeded").wait_for()
    row.locator("button.show-evaluation").click()
    page.wait_for_selector("#evaluation-source:has-text('evaluation')")
    assert "test split of dataset" in page.inner_text("#evaluation-source")
    wait_report(page)

    # An instance-segmentation job: per-class AP, curves at IoU 0.5, the worst images drawn.
    page.goto(f"{live_server.url}/jobs/{segmenter_job.pk}/")
    wait_report(page)
    headers = page.eval_on_selector_all("#evaluation .per-class th", "ths => ths.map(t => t.innerText)")
    assert headers == ["class", "AP", "AP50", "AP75"]
    assert int(page.locator("#evaluation .pr-curves").get_attribute("data-curves")) >= 1
    assert page.locator("#evaluation .examples figure").count() >= 1
    assert "IoU" in page.locator("#evaluation .examples figcaption").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "evaluation-instances.png"), full_page=True)

    # Two models side by side: their figures in one table, their curves overlaid.
    page.goto(f"{live_server.url}/models/")
    for job in (first_job, other_job):
        page.check(f"tr[data-model='{job.model_version.pk}'] input.pick")
    page.click(".task-models[data-task=classification] button.compare")
    page.wait_for_url("**/models/compare/?models=*")
    page.click("#compare:not([disabled])")
    page.wait_for_selector("#comparison:not([hidden]) #compare-table tbody tr")
    assert page.locator("#compare-table tbody tr").count() == 2
    assert page.locator("#compare-curves").get_attribute("data-curves") == "2"
    page.screenshot(path=str(ARTIFACTS / "compare-models.png"), full_page=True)
