"""Setting up as the README says: `create_user --staff` makes an admin who edits templates and
reads the rest; passwords come without a terminal; a command that refuses creates nothing; and
commands that need no model do not load torch."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def _staff_client(monkeypatch) -> Client:
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pw\n"))
    call_command("create_user", "root", "--staff", "--password-stdin", stdout=io.StringIO())
    client = Client()
    assert client.login(username="root", password="s3cret-pw")
    return client


@pytest.mark.django_db
def test_a_staff_user_sees_the_admin_the_readme_promises(monkeypatch):
    call_command("load_templates", verbosity=0)
    client = _staff_client(monkeypatch)
    index = client.get("/admin/").content.decode()
    assert "You don’t have permission" not in index and "have permission to view or edit anything" not in index
    for section in ("Templates", "Jobs", "Datasets", "Model versions", "Deployments", "Pretrained weights"):
        assert section in index, section
    assert "Pretrained weightss" not in index
    template_page = client.get("/admin/templates_registry/template/fai-cls/change/")
    assert template_page.status_code == 200 and 'name="hyperparameters-0-default"' in template_page.content.decode()
    assert client.get("/admin/training/job/").status_code == 200
    assert client.get("/admin/training/job/add/").status_code == 403  # the rest is read-only


@pytest.mark.django_db
def test_the_password_comes_from_stdin_or_the_environment_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a tty
    monkeypatch.delenv("PLATFORM_USER_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("create_user", "ann", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="ann").exists()
    monkeypatch.setenv("PLATFORM_USER_PASSWORD", "from-env")
    call_command("create_user", "ann", stdout=io.StringIO())
    assert get_user_model().objects.get(username="ann").check_password("from-env")
    monkeypatch.setattr(sys, "stdin", io.StringIO("from-stdin\n"))
    call_command("create_user", "ann", "--password-stdin", stdout=io.StringIO())
    assert get_user_model().objects.get(username="ann").check_password("from-stdin")


def _manage(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "platform_api.settings"}
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, input="")


@pytest.mark.parametrize("args", [["create_user", "bob", "--password", "pw"],
                                  ["createsuperuser", "--username", "bob", "--email", "b@example.com", "--noinput"],
                                  ["create_api_token", "bob"]])
def test_a_command_refused_for_want_of_the_servers_database_creates_nothing(tmp_path, args):
    for data_dir in (tmp_path / "absent", tmp_path / "empty"):
        if data_dir.name == "empty":
            data_dir.mkdir()
        result = _manage(args, data_dir)
        assert result.returncode != 0
        assert "no platform database" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert not data_dir.exists() or list(data_dir.iterdir()) == []


def test_commands_and_the_url_map_load_without_torch(tmp_path):
    code = ("import os, sys, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'platform_api.settings'; django.setup(); "
            "import platform_api.urls; from django.core.management import get_commands, load_command_class; "
            "[load_command_class(app, name) for name, app in get_commands().items()]; "
            "print(sorted(m for m in ('torch', 'torchvision', 'onnx', 'onnxruntime') if m in sys.modules))")
    env = {**os.environ, "DATA_DIR": str(tmp_path / "d")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
