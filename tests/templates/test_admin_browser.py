"""End to end in a real headless Chromium at a laptop's 1400 x 900: a staff user edits a
template in the admin, an inconsistent default is refused on the page with its reason in view,
a valid one reaches the REST API, and a job shows in the admin with its progress. Every
shipped template's editor fits the window without horizontal scrolling.

Screenshots are saved under tests/artifacts/admin/ (git-ignored) for a person to look at.
Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`).
"""
import io
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from platform_api.datasets.models import Dataset
from platform_api.training.models import Job
from training_templates.models import Template

from .conftest import INCEPTION_PARAMS, make_template

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
WINDOW = {"width": 1400, "height": 900}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "admin"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


@pytest.fixture
def browser_page(live_server, transactional_db, monkeypatch):
    """A function that logs `username` in and returns the page, in a 1400 x 900 window."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    # Playwright's sync API runs an event loop in this thread; the ORM is done before it
    # starts, but Django would still refuse any later ORM call here without this.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def open_as(username: str, password: str, next_path: str):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport=WINDOW)
                page.set_default_timeout(20_000)
                page.goto(f"{live_server.url}/admin/login/?next={next_path}")
                page.fill("#id_username", username)
                page.fill("#id_password", password)
                page.click('input[type="submit"]')
                page.wait_for_url(f"**{next_path}")
                yield page
            finally:
                browser.close()

    return open_as


def horizontal_overflow(page) -> int:
    """How many pixels the page, or any table in it, is wider than what shows."""
    return page.evaluate("""() => Math.max(document.documentElement.scrollWidth - window.innerWidth,
        ...Array.from(document.querySelectorAll('table, .results')).map(e => e.scrollWidth - e.clientWidth))""")


def clipped_inputs(page) -> list[str]:
    """Text inputs whose value is wider than the box that shows it."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('.hyperparameter-rows input[type=text]'))
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => `${e.name}=${e.value}`)""")


def assert_in_view_without_scrolling(page, locator):
    box = locator.bounding_box()
    assert page.evaluate("window.scrollY") == 0
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= WINDOW["height"], box


def test_admin_refuses_a_default_above_max_and_saves_a_valid_one(browser_page, live_server):
    template = make_template()
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pw")
    token = Token.objects.create(user=admin).key
    dataset = Dataset.objects.create(owner=admin, name="flowers", format="classification_folder",
                                     task="classification", status="ready", archive_key="k")
    job = Job.objects.create(owner=admin, name="first-run", template=template, dataset=dataset,
                             trainer=template.trainer, status="running",
                             progress={"percent": 40.0, "epoch": 2, "epochs": 5, "step": 8, "steps": 20})
    row = [p["name"] for p in INCEPTION_PARAMS].index("batch_size")
    default_input = f'input[name="hyperparameters-{row}-default"]'
    change_path = f"/admin/templates_registry/template/{template.pk}/change/"

    with browser_page("root", "s3cret-pw", change_path) as page:
        assert horizontal_overflow(page) <= 0
        assert page.input_value(default_input) == "32"
        assert page.input_value(f'input[name="hyperparameters-{row}-maximum"]') == "128"  # not 128.0
        page.screenshot(path=ARTIFACTS / "template-editor.png")

        page.fill(default_input, "300")
        page.click('input[name="_save"]')
        page.wait_for_selector(".errornote")
        assert "batch_size: default must be a multiple of 1 from 1 to 128, got 300" in page.content()
        reason = page.locator(".problems-note li", has_text="batch_size: default must be a multiple of 1")
        assert_in_view_without_scrolling(page, reason)
        beside = page.locator("tr.field-errors", has_text="default must be a multiple of 1 from 1 to 128, got 300")
        assert beside.count() == 1
        page.screenshot(path=ARTIFACTS / "template-editor-refused.png")

        page.fill(default_input, "64")
        page.click('input[name="_save"]')
        page.wait_for_url("**/admin/templates_registry/template/")
        assert "was changed successfully" in page.content()

        response = page.request.get(f"{live_server.url}/api/v1/templates/{template.pk}/",
                                    headers={"Authorization": f"Token {token}"})
        assert response.status == 200
        body = response.json()

        page.goto(f"{live_server.url}/admin/training/job/")
        job_row = page.locator("#result_list tbody tr", has_text="first-run")
        assert "Running" in job_row.inner_text() and "40% · epoch 2/5" in job_row.inner_text()
        assert horizontal_overflow(page) <= 0
        page.screenshot(path=ARTIFACTS / "jobs.png")
        page.click(f'a[href$="/admin/training/job/{job.pk}/change/"]')
        assert "40% · epoch 2/5 · step 8/20" in page.inner_text("#content-main")

    batch = {h["name"]: h for h in body["hyperparameters"]}["batch_size"]
    assert batch["default"] == 64
    assert body["json_schema"]["properties"]["batch_size"]["default"] == 64


def test_every_shipped_template_fits_the_window_and_a_refusal_reads_at_the_top(browser_page):
    call_command("load_templates", verbosity=0)
    get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pw")
    ids = list(Template.objects.values_list("pk", flat=True))
    editor = "/admin/templates_registry/template/{}/change/"

    with browser_page("root", "s3cret-pw", editor.format("fai-cls")) as page:
        for template_id in ids:
            page.goto(page.url.split("/admin/")[0] + editor.format(template_id))
            assert horizontal_overflow(page) <= 0, template_id
            assert clipped_inputs(page) == [], template_id
        page.goto(page.url.split("/admin/")[0] + editor.format("fai-cls"))
        names = page.eval_on_selector_all("td.field-parameter", "cells => cells.map(c => c.innerText.trim())")
        page.fill(f'input[name="hyperparameters-{names.index("epochs")}-maximum"]', "100000")
        page.click('input[name="_save"]')
        page.wait_for_selector(".problems-note")
        reason = page.locator(".problems-note li", has_text="epochs: max offers 100000, which trainer fai_cls refuses")
        assert_in_view_without_scrolling(page, reason)
        page.screenshot(path=ARTIFACTS / "fai-cls-refused.png")
        page.locator("tr.field-errors", has_text="max offers 100000").scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "fai-cls-refused-at-the-row.png")
    assert Template.objects.get(pk="fai-cls").hyperparameters.get(name="epochs").maximum == 500


def test_a_staff_user_made_as_the_readme_says_edits_templates_and_reads_jobs(browser_page, monkeypatch):
    call_command("load_templates", verbosity=0)
    monkeypatch.setenv("PLATFORM_USER_PASSWORD", "s3cret-pw")
    call_command("create_user", "staffer", "--staff", stdout=io.StringIO())
    editor = "/admin/templates_registry/template/fai-cls/change/"

    with browser_page("staffer", "s3cret-pw", "/admin/") as page:
        sidebar = page.inner_text("#content-main")
        assert "permission to view or edit anything" not in sidebar
        for section in ("Templates", "Jobs", "Datasets", "Model versions", "Deployments", "Pretrained weights"):
            assert section in sidebar, section
        page.screenshot(path=ARTIFACTS / "staff-index.png")
        page.goto(page.url.split("/admin/")[0] + editor)
        names = page.eval_on_selector_all("td.field-parameter", "cells => cells.map(c => c.innerText.trim())")
        page.fill(f'input[name="hyperparameters-{names.index("epochs")}-default"]', "12")
        page.click('input[name="_save"]')
        page.wait_for_url("**/admin/templates_registry/template/")
        assert "was changed successfully" in page.content()
        page.goto(page.url.split("/admin/")[0] + "/admin/training/job/")
        assert page.locator("a.addlink").count() == 0  # read-only: nothing to add
    assert Template.objects.get(pk="fai-cls").hyperparameters.get(name="epochs").default == 12
