"""The template editor page: values as declared, one row per parameter that only narrows,
every refusal beside its field and at the top naming the parameter, the schema at the end."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from training_templates.admin_rows import read_choices, read_value
from training_templates.hyperparameter_specs import HyperparameterSpec
from training_templates.models import Hyperparameter, Template

from .test_templates_admin import CHANGE_URL, change_form

pytestmark = pytest.mark.urls("tests.templates.urls")


@pytest.fixture
def staff(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", None))
    return client


def field_value(page, row, field):
    """The value attribute of row `row`'s input `field` (or its selected option)."""
    name = f"hyperparameters-{row}-{field}"
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    if found is None:
        found = re.search(rf'<select name="{name}".*?<option value="([^"]*)" selected>', page, re.S)
    if found is None:
        found = re.search(rf'<textarea name="{name}"[^>]*>\s*(.*?)</textarea>', page, re.S)
    return found.group(1)


def test_values_read_as_declared_ints_as_ints_strings_unquoted_choices_as_a_list(staff, template):
    page = staff.get(CHANGE_URL.format(template.pk)).content.decode()
    # INCEPTION_PARAMS rows: 1 image_size, 2 batch_size, 4 flip_probability, 5 flip_direction
    assert [field_value(page, 2, f) for f in ("default", "minimum", "maximum", "step")] == ["32", "1", "128", "1"]
    assert [field_value(page, 4, f) for f in ("default", "minimum", "maximum", "step")] == ["0.5", "0.0", "1.0", "0.1"]
    assert field_value(page, 5, "default") == "horizontal"
    assert field_value(page, 5, "choices") == "horizontal, vertical"
    assert "1.0" not in [field_value(page, 2, f) for f in ("minimum", "maximum", "step")]


def test_names_and_types_are_the_trainers_rows_are_neither_added_nor_deleted(staff, template):
    page = staff.get(CHANGE_URL.format(template.pk)).content.decode()
    assert 'name="hyperparameters-0-name"' not in page and 'name="hyperparameters-0-type"' not in page
    assert "DELETE" not in page and "Add another" not in page
    assert page.count('name="hyperparameters-2-id"') == 1
    data = change_form(template)
    data.update({"hyperparameters-2-name": "renamed", "hyperparameters-2-type": "float", "trainer": "fai_mf"})
    assert staff.post(CHANGE_URL.format(template.pk), data).status_code == 302
    assert Hyperparameter.objects.get(template=template, position=2).name == "batch_size"
    assert Hyperparameter.objects.get(template=template, position=2).type == "int"
    assert Template.objects.get(pk=template.pk).trainer == "test_wide_trainer"


def test_a_narrower_offer_typed_as_a_person_writes_it_is_saved(staff, template):
    data = change_form(template, batch_size={"default": "64", "maximum": "256"},
                       flip_direction={"choices": "horizontal", "default": "horizontal"},
                       flip_probability={"default": "0.3"})
    data["description"] = "narrowed for small GPUs"
    assert staff.post(CHANGE_URL.format(template.pk), data).status_code == 302
    rows = {hp.name: hp for hp in template.hyperparameters.all()}
    assert (rows["batch_size"].default, rows["batch_size"].maximum) == (64, 256)
    assert rows["flip_direction"].choices == ["horizontal"]
    assert rows["flip_probability"].default == 0.3
    assert Template.objects.get(pk=template.pk).description == "narrowed for small GPUs"


def test_a_refusal_sits_under_its_field_and_at_the_top_naming_the_parameter(staff, template):
    response = staff.post(CHANGE_URL.format(template.pk),
                          change_form(template, batch_size={"maximum": "2000"}, image_size={"default": "big"}))
    assert response.status_code == 200
    page = response.content.decode()
    widening = ("offers 2000, which trainer test_wide_trainer refuses: must be a multiple of 1 from 1 to 1024, "
                "got 2000")
    top = page[page.index('class="problems-note"'):page.index("</ul>", page.index('class="problems-note"'))]
    assert f"batch_size: max {widening}" in top
    assert "image_size: default must be an integer, got &quot;big&quot;" in top
    # Under the row: a line that starts below the max column (3 columns to its left: name, type, default, min).
    assert re.search(rf'<tr class="field-errors"><td colspan="4"></td>\s*<td colspan="5">.*max {widening}', page)
    assert re.search(r'<td class="field-maximum errors">\s*<input[^>]*name="hyperparameters-2-maximum"', page)
    assert Hyperparameter.objects.get(template=template, name="batch_size").maximum == 128


def test_every_inconsistent_or_wider_row_is_reported_at_once(staff, template):
    page = staff.post(CHANGE_URL.format(template.pk), change_form(
        template, batch_size={"minimum": "200"}, image_size={"maximum": "8192"})).content.decode()
    assert "batch_size: min 200 is greater than max 128" in page
    assert "image_size: max offers 8192, which trainer test_wide_trainer refuses" in page


def test_the_json_schema_is_collapsed_after_the_rows(staff, template):
    page = staff.get(CHANGE_URL.format(template.pk)).content.decode()
    schema = page.index('<details class="json-schema module">')
    assert page.index('class="module hyperparameter-rows"') < schema
    assert "&quot;multipleOf&quot;: 16" in page[schema:]
    assert " open" not in page[schema:page.index(">", schema)]


def test_templates_come_from_the_catalogue_or_a_clone_not_an_add_page(staff, template):
    assert staff.get("/admin/templates_registry/template/add/").status_code == 403


@pytest.mark.parametrize("declared, typed, read", [
    ({"type": "int", "default": 32, "min": 1}, "64", 64),
    ({"type": "int", "default": None, "min": 1}, "", None),  # a nullable int left empty is null
    ({"type": "int", "default": 32}, "64.5", 64.5),  # kept as typed: the service says "must be an integer"
    ({"type": "float", "default": 0.5}, "1e-06", 1e-06),
    ({"type": "float", "default": 0.5}, "abc", "abc"),
    ({"type": "bool", "default": False}, "true", True),
    ({"type": "string", "default": ""}, "", ""),  # a string declared "" stays "", not null
    ({"type": "enum", "default": 1, "choices": [1, 2]}, "2", 2),  # the trainer's choice, with its type
    ({"type": "enum", "default": "a", "choices": ["a", "b"]}, "c", "c"),
])
def test_a_typed_default_is_read_as_the_trainer_declares_the_parameter(declared, typed, read):
    value = read_value(typed, HyperparameterSpec(name="p", **declared))
    assert value == read and type(value) is type(read)


def test_typed_choices_are_the_trainers_values_in_the_order_written():
    declared = HyperparameterSpec(name="p", type="enum", default=2, choices=[1, 2, 4])
    assert read_choices(" 4, 2 ,, ", declared) == [4, 2]
    assert read_choices("", declared) is None


def test_staff_who_may_only_view_read_the_values_as_declared(template):
    viewer = get_user_model().objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_template"))
    client = Client()
    client.force_login(viewer)
    page = client.get(CHANGE_URL.format(template.pk)).content.decode()
    assert '<td class="field-maximum">128</td>' in page and "128.0" not in page
    assert '<td class="field-choices">horizontal, vertical</td>' in page
    assert "<input" not in page[page.index('class="module hyperparameter-rows"'):]


def test_a_choice_default_is_picked_among_the_choices_the_template_offers(staff):
    call_command("load_templates", verbosity=0)
    page = staff.get(CHANGE_URL.format("fai-cls")).content.decode()
    select = re.search(r'<select name="hyperparameters-0-default".*?</select>', page, re.S).group(0)
    assert '<option value="resnet50" selected>' in select and '<option value="stdc2">' in select
    assert "tiny_test" not in select  # the trainer's test-only backbone, which fai-cls does not offer
