"""End to end in a real headless Chromium: a staff user edits a template in the admin,
an inconsistent default is refused on the page, a valid one reaches the REST API.

Needs Debian's chromium at /usr/bin/chromium (`apt-get install -y chromium`).
"""
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from .conftest import INCEPTION_PARAMS, make_template

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                      "(apt-get install -y chromium)"),
]


def test_admin_refuses_a_default_above_max_and_saves_a_valid_one(live_server, transactional_db, monkeypatch):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    # Playwright's sync API runs an event loop in this thread; the ORM is done before it
    # starts, but Django would still refuse any later ORM call here without this.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    template = make_template()
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "s3cret-pw")
    token = Token.objects.create(user=admin).key
    row = [p["name"] for p in INCEPTION_PARAMS].index("batch_size")
    default_input = f'input[name="hyperparameters-{row}-default"]'
    change_path = f"/admin/templates_registry/template/{template.pk}/change/"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{live_server.url}/admin/login/?next={change_path}")
            page.fill("#id_username", "root")
            page.fill("#id_password", "s3cret-pw")
            page.click('input[type="submit"]')
            page.wait_for_url(f"**{change_path}")

            assert page.input_value(default_input) == "32"
            page.fill(default_input, "300")
            page.click('input[name="_save"]')
            page.wait_for_selector(".errornote")
            assert "batch_size: default must be a multiple of 1 from 1 to 128, got 300" in page.content()

            page.fill(default_input, "64")
            page.click('input[name="_save"]')
            page.wait_for_url("**/admin/templates_registry/template/")
            assert "was changed successfully" in page.content()

            response = page.request.get(f"{live_server.url}/api/v1/templates/{template.pk}/",
                                        headers={"Authorization": f"Token {token}"})
            assert response.status == 200
            body = response.json()
        finally:
            browser.close()

    batch = {h["name"]: h for h in body["hyperparameters"]}["batch_size"]
    assert batch["default"] == 64
    assert body["json_schema"]["properties"]["batch_size"]["default"] == 64
