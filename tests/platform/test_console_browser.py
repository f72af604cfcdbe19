"""The console end to end, as a person uses it, in a real headless Chromium against the live
server and real worker processes: sign in, make a token, upload a dataset, submit a job with
an invalid value and see the error beside the field, submit a valid one, watch its progress
and loss curve grow, deploy the model and try an image.

Fails on any request to another host than the server and on any console error. Screenshots
of every page go to tests/artifacts/console/ (git-ignored). Needs Debian's chromium at
/usr/bin/chromium (`apt-get install -y chromium`).
"""
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.factories import classification_zip, colour_image, image_bytes
from tests.templates.test_admin_browser import CHROMIUM, LAUNCH_ARGS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "console"
# 480 steps of the tiny backbone in fp32 at 224 px, so that the page's one-second poll sees the
# job running several times even on a fast idle machine (60 steps at 32 px finished between
# two polls on an idle AMD EPYC, and this took 10 s there).
JOB = {"backbone": '"tiny_test"', "resolution": "224", "batch_size": "4", "epochs": "80"}
# Samples what the job page shows, every 100 ms, for the test to read afterwards.
RECORD = """window.__seen = [];
setInterval(() => __seen.push([Number(document.getElementById('job-progress').dataset.percent || 0),
                               Number(document.getElementById('loss-chart').dataset.points || 0)]), 100);"""

pytestmark = [
    pytest.mark.browser, pytest.mark.slow, pytest.mark.worker,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


class Watch:
    """What the browser did that the test forbids: requests to other hosts, console errors."""

    def __init__(self, server: str):
        self.server, self.foreign, self.errors, self.expected = server, [], [], []

    def route(self, route):
        url = route.request.url
        if url.startswith(self.server) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def console(self, message):
        if message.type != "error":
            return
        # The browser logs a refused request (status 400) as a console error; the one the test
        # provokes on purpose is listed as expected, any other fails the test.
        text = f"{message.text} at {message.location.get('url', '')}"
        if self.expected and self.expected[0] in text:
            self.expected.pop(0)
        else:
            self.errors.append(text)


def test_a_person_trains_deploys_and_tries_a_model_in_the_console(live_server, transactional_db, templates,
                                                                  start_worker, tmp_path, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop runs in this thread
    get_user_model().objects.create_user("alice", password="s3cret-pw")
    worker = start_worker()
    archive = classification_zip(tmp_path / "colours.zip", per_class={"train": 12, "valid": 4})
    red = tmp_path / "red.png"
    red.write_bytes(image_bytes(colour_image("red", 32, seed=9001)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    server = live_server.url
    watch = Watch(server)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            page.route("**/*", watch.route)
            page.on("console", watch.console)
            page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))

            def shot(name, full_page=True):
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)

            # 1. Sign in.
            page.goto(f"{server}/")
            page.wait_for_url("**/login/**")
            shot("01-login")
            page.fill("#id_username", "alice")
            page.fill("#id_password", "s3cret-pw")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/")

            # 2. Make a token, and it works on the API.
            page.click("text=API tokens")
            page.click("#create-token")
            token = page.text_content("#new-token").strip()
            shot("02-tokens")
            response = page.request.get(f"{server}/api/v1/datasets/", headers={"Authorization": f"Token {token}"})
            assert response.status == 200 and response.json()["count"] == 0
            # Replacing it asks first; declined, the token stays.
            page.once("dialog", lambda dialog: dialog.dismiss())
            page.click("#replace-token")
            assert page.is_visible("#replace-token") and token[:6] in page.text_content("#token-state")
            assert page.request.get(f"{server}/api/v1/datasets/",
                                    headers={"Authorization": f"Token {token}"}).status == 200

            # 3. Upload a dataset; it imports, and its counts and samples show.
            page.click("text=Datasets")
            page.fill("#upload-form input[name=name]", "colours")
            page.set_input_files("#upload-form input[name=archive]", str(archive))
            page.click("#upload-form button[type=submit]")
            page.wait_for_url("**/datasets/*/")
            page.wait_for_selector("#dataset-status.ready", timeout=120_000)
            page.wait_for_selector("#samples img")
            page.wait_for_function("[...document.querySelectorAll('#samples img')].every(i => i.complete && i.naturalWidth > 0)")
            page.wait_for_selector("#counts-chart .main-svg")
            assert "2: blue, red" in page.text_content("#dataset-facts")
            shot("03-dataset")

            # 4. An invalid value is refused by the server, its message beside the field.
            page.click("#train-link")
            page.wait_for_function("document.getElementById('job-form').dataset.ready === 'true'")
            assert page.input_value("#template") == "fai-cls"  # the template that suits the dataset
            chosen_dataset = page.input_value("#dataset")
            page.select_option("#template", "fai-mf")  # cannot train on classification data
            page.wait_for_function("document.getElementById('job-form').dataset.ready === 'true'")
            assert page.input_value("#dataset") == chosen_dataset  # the dataset is not switched
            assert "this dataset is classification" in page.text_content("#dataset-mismatch")
            assert page.is_disabled("#submit-job")
            page.select_option("#template", "fai-cls")
            page.wait_for_function("document.getElementById('job-form').dataset.ready === 'true'")
            for name, value in JOB.items():
                (page.select_option if name == "backbone" else page.fill)(f"#hp-{name}", value)
            assert page.is_hidden("#dataset-mismatch") and not page.is_disabled("#submit-job")
            # What it would cost, before submit: no job has run here, so steps but no time.
            page.wait_for_function("document.getElementById('job-cost').textContent.includes('80 epochs')")
            assert "no time estimate" in page.text_content("#job-cost")
            page.select_option("#precision", "fp32")
            page.fill("#hp-batch_size", "0")
            watch.expected.append(f"400 (Bad Request) at {server}/api/v1/jobs/")
            page.click("#submit-job")
            beside = page.wait_for_selector('[data-errors-for="hyperparameters.batch_size"] .error')
            assert beside.text_content() == "must be a multiple of 1 from 1 to 256, got 0"
            assert "invalid" in page.get_attribute("#hp-batch_size", "class")
            shot("04-new-job-refused")

            # 5. A valid job is accepted; its page opens.
            page.fill("#hp-batch_size", JOB["batch_size"])
            page.click("#submit-job")
            page.wait_for_url("**/jobs/*/")

            # 6. The progress moves and the loss curve grows.
            page.evaluate(RECORD)
            page.wait_for_function("document.getElementById('job-progress').dataset.percent > 0", timeout=180_000)
            shot("05-job-running")
            page.wait_for_selector("#job-status.succeeded", timeout=300_000)
            assert page.text_content("#job-dataset").startswith("colours (#")  # its name, not "dataset 1"
            seen = page.evaluate("window.__seen")
            running = sorted({percent for percent, _ in seen if 0 < percent < 100})
            assert len(running) >= 2, f"the progress shown did not move while running: {running}"
            grew = [(a, b) for (_, a), (_, b) in zip(seen, seen[1:]) if 0 < a < b]
            assert grew, "the loss curve did not grow while the page was watched"
            page.wait_for_selector("#confusion-chart .main-svg")
            page.wait_for_selector("#model-link")
            assert page.is_hidden("#cancel-job")
            shot("06-job-succeeded")

            # 7. Deploy the model.
            page.click("#model-link")
            page.wait_for_selector("button.deploy")
            shot("07-models")
            page.click("button.deploy")
            page.wait_for_selector("a.try", timeout=120_000)
            shot("08-deployed")

            # 8. Try an image and see the prediction.
            page.click("a.try")
            page.wait_for_selector("#try-submit:not([disabled])")
            page.set_input_files("#try-image", str(red))
            page.click("#try-submit")
            page.wait_for_selector("#predictions tr.prediction")
            assert page.text_content("#predictions tr.prediction td:nth-child(2)") == "red"
            # Each value sits under its header; a classifier has no Box column.
            header = page.locator("#predictions th.num").bounding_box()
            value = page.locator("#predictions tr.prediction td.num").first.bounding_box()
            assert abs((header["x"] + header["width"]) - (value["x"] + value["width"])) < 2, (header, value)
            assert page.is_hidden("#predictions th.box")
            # The 32 px image is drawn at the size it is shown, not enlarged afterwards.
            drawn, shown, ratio = page.evaluate("""() => { const c = document.getElementById('try-canvas');
                return [c.width, c.getBoundingClientRect().width, window.devicePixelRatio]; }""")
            assert abs(drawn - shown * ratio) <= 1 and shown > 32
            shot("09-try")
            # The model's own threshold can be overridden per request.
            page.check("#try-own-threshold")
            page.wait_for_selector("#predictions tr.prediction")
            page.evaluate("""() => { const r = document.getElementById('try-threshold'); r.value = '1';
                r.dispatchEvent(new Event('input')); r.dispatchEvent(new Event('change')); }""")
            page.wait_for_selector("#predictions td:has-text('nothing predicted at or above 1')")
            assert page.text_content("#try-threshold-value") == "1"

            # The API docs are served from the platform too.
            page.goto(f"{server}/api/docs/")
            page.wait_for_selector(".swagger-ui .info")
            shot("10-api-docs", full_page=False)
            page.goto(f"{server}/api/redoc/")
            page.wait_for_selector("h1")
            shot("11-api-redoc", full_page=False)
        finally:
            browser.close()

    assert not watch.foreign, f"requests to other hosts: {watch.foreign}"
    assert not watch.errors, f"console errors: {watch.errors}"
    assert not watch.expected, f"expected refusals not seen: {watch.expected}"
    assert worker.process.poll() is None, worker.log()
