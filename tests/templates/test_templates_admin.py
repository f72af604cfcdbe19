"""The template admin: checked inline hyperparameters, JSON Schema, job counts, actions."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from platform_api.datasets.models import Dataset
from platform_api.training.models import Job
from training_templates.admin_rows import shown
from training_templates.models import Hyperparameter, Template
from training_templates.services import spec_from_model

from .conftest import make_template

pytestmark = pytest.mark.urls("tests.templates.urls")
CHANGE_URL = "/admin/templates_registry/template/{}/change/"
CHANGELIST_URL = "/admin/templates_registry/template/"


@pytest.fixture
def admin_client_logged_in(db):
    # No password: hashing costs ~0.3 s a user on a busy CI core; force_login skips it.
    user = get_user_model().objects.create_superuser("root", "root@example.com", None)
    client = Client()
    client.force_login(user)
    return client


def change_form(template, **param_edits):
    """The POST body the admin change page sends, from the saved rows as the page shows them
    (ints as ints, strings unquoted, choices comma-separated) plus edits as typed in the form
    (param_edits: {"batch_size": {"default": "300"}})."""
    data = {"description": template.description, "_save": "Save"}
    if template.is_active:
        data["is_active"] = "on"
    rows = list(template.hyperparameters.order_by("position", "id"))
    data.update({
        "hyperparameters-TOTAL_FORMS": str(len(rows)), "hyperparameters-INITIAL_FORMS": str(len(rows)),
        "hyperparameters-MIN_NUM_FORMS": "0", "hyperparameters-MAX_NUM_FORMS": "1000",
    })
    for i, hp in enumerate(rows):
        spec = spec_from_model(hp)
        row = {
            "id": str(hp.pk), "template": template.pk, "default": shown(spec["default"]),
            "minimum": shown(spec["min"]), "maximum": shown(spec["max"]), "step": shown(spec["step"]),
            "choices": ", ".join(shown(c) for c in spec["choices"] or []), "description": hp.description,
        }
        if hp.log_scale:
            row["log_scale"] = "on"
        row.update(param_edits.get(hp.name, {}))
        data.update({f"hyperparameters-{i}-{k}": v for k, v in row.items()})
    return data


def post_change(client, template, **param_edits):
    return client.post(CHANGE_URL.format(template.pk), change_form(template, **param_edits))


def test_a_valid_default_edit_is_saved(admin_client_logged_in, template):
    response = post_change(admin_client_logged_in, template, batch_size={"default": "64"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Hyperparameter.objects.get(template=template, name="batch_size").default == 64


@pytest.mark.parametrize("param, edit, message", [
    ("batch_size", {"default": "300"}, "batch_size: default must be a multiple of 1 from 1 to 128, got 300"),
    ("image_size", {"default": "250"}, "image_size: default must be a multiple of 16 from 32 to 1024, got 250"),
    ("batch_size", {"minimum": "200"}, "batch_size: min 200 is greater than max 128"),
    ("image_size", {"step": "0"}, "image_size: step must be greater than 0, got 0"),
    ("flip_direction", {"default": "diagonal"},
     "flip_direction: default must be one of &quot;horizontal&quot;, &quot;vertical&quot;; got &quot;diagonal&quot;"),
    ("flip_probability", {"default": "0.35"}, "flip_probability: default must be a multiple of 0.1 from 0.0 to 1.0, got 0.35"),
])
def test_an_inconsistent_declaration_is_refused_and_nothing_saved(admin_client_logged_in, template, param, edit, message):
    data = change_form(template, **{param: edit})
    data["description"] = "must not be saved"
    response = admin_client_logged_in.post(CHANGE_URL.format(template.pk), data)
    assert response.status_code == 200  # the form again, with errors
    assert message in response.content.decode()
    template.refresh_from_db()
    assert template.description == ""
    row = Hyperparameter.objects.get(template=template, name=param)
    assert (row.default, row.minimum, row.step) == (
        {"batch_size": 32, "image_size": 256, "flip_direction": "horizontal", "flip_probability": 0.5}[param],
        {"batch_size": 1.0, "image_size": 32.0, "flip_direction": None, "flip_probability": 0.0}[param],
        {"batch_size": 1.0, "image_size": 16.0, "flip_direction": None, "flip_probability": 0.1}[param],
    )


def test_the_change_page_shows_the_json_schema(admin_client_logged_in, template):
    page = admin_client_logged_in.get(CHANGE_URL.format(template.pk)).content.decode()
    assert "JSON Schema clients see" in page
    assert "&quot;additionalProperties&quot;: false" in page
    assert "&quot;multipleOf&quot;: 16" in page


def _job_for(template, user):
    dataset = Dataset.objects.create(owner=user, name="d", format="classification_folder",
                                     task="classification", status="ready", archive_key="k")
    return Job.objects.create(owner=user, template=template, dataset=dataset, trainer=template.trainer,
                              hyperparameters={"batch_size": 32},
                              hyperparameter_spec=[{"name": "batch_size", "type": "int", "default": 32,
                                                    "min": 1, "max": 128, "step": 1}])


def test_the_list_counts_jobs_per_template(admin_client_logged_in, template):
    make_template("fai-cls", params=[])
    user = get_user_model().objects.get(username="root")
    _job_for(template, user)
    _job_for(template, user)
    response = admin_client_logged_in.get(CHANGELIST_URL)
    counts = {t.pk: t.job_count for t in response.context["cl"].result_list}
    assert counts == {"Clarifai_InceptionBatchNorm": 2, "fai-cls": 0}


def test_editing_a_template_leaves_submitted_jobs_unchanged(admin_client_logged_in, template):
    job = _job_for(template, get_user_model().objects.get(username="root"))
    before = Job.objects.filter(pk=job.pk).values().get()
    response = post_change(admin_client_logged_in, template, batch_size={"default": "64", "maximum": "256"})
    assert response.status_code == 302
    assert Job.objects.filter(pk=job.pk).values().get() == before


def test_the_list_filters_by_task_and_active(admin_client_logged_in, template):
    make_template("fai-mf", params=[], task="instance_segmentation", is_active=False)
    by_task = admin_client_logged_in.get(CHANGELIST_URL, {"task": "instance_segmentation"})
    assert [t.pk for t in by_task.context["cl"].result_list] == ["fai-mf"]
    active = admin_client_logged_in.get(CHANGELIST_URL, {"is_active__exact": "1"})
    assert [t.pk for t in active.context["cl"].result_list] == ["Clarifai_InceptionBatchNorm"]


def run_action(client, action, *ids):
    return client.post(CHANGELIST_URL, {"action": action, "_selected_action": list(ids), "index": "0"})


def test_clone_copies_the_template_inactive_under_a_new_id(admin_client_logged_in, template):
    run_action(admin_client_logged_in, "clone_templates", template.pk)
    run_action(admin_client_logged_in, "clone_templates", template.pk)
    first = Template.objects.get(pk="Clarifai_InceptionBatchNorm-copy")
    second = Template.objects.get(pk="Clarifai_InceptionBatchNorm-copy-2")
    assert (first.is_active, second.is_active) == (False, False)
    assert (first.trainer, first.task, first.dataset_tasks) == (template.trainer, "classification", ["classification"])
    original = list(template.hyperparameters.values_list("name", "type", "default", "minimum", "maximum", "step",
                                                         "choices", "position"))
    assert list(first.hyperparameters.values_list("name", "type", "default", "minimum", "maximum", "step",
                                                  "choices", "position")) == original
    assert Hyperparameter.objects.filter(template=template).count() == len(original)  # original untouched


def test_deactivate_and_activate_actions(admin_client_logged_in, template):
    make_template("fai-cls", params=[])
    run_action(admin_client_logged_in, "deactivate_templates", template.pk, "fai-cls")
    assert list(Template.objects.filter(is_active=False).values_list("pk", flat=True)) == [
        "Clarifai_InceptionBatchNorm", "fai-cls"]
    run_action(admin_client_logged_in, "activate_templates", "fai-cls")
    assert Template.objects.get(pk="fai-cls").is_active is True
    assert Template.objects.get(pk=template.pk).is_active is False
