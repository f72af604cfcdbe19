"""Consistency of declarations (spec_problems) and the JSON Schema clients see."""
import pytest

from training_templates.hyperparameter_specs import HyperparameterSpec, declaration_problems, json_schema, spec_problems


def problems(**fields):
    return spec_problems(HyperparameterSpec(**fields))


def test_a_consistent_declaration_has_no_problems():
    assert problems(name="batch_size", type="int", default=32, min=1, max=128, step=1) == []


def test_it_refuses_min_greater_than_max():
    assert problems(name="x", type="int", default=5, min=10, max=1) == ["min 10 is greater than max 1"]


@pytest.mark.parametrize("step", [0, -1])
def test_it_refuses_a_step_that_is_not_positive(step):
    assert problems(name="x", type="int", default=1, min=1, max=9, step=step) == [
        f"step must be greater than 0, got {step}"]


def test_it_refuses_a_default_above_max():
    assert problems(name="batch_size", type="int", default=300, min=1, max=256, step=1) == [
        "default must be a multiple of 1 from 1 to 256, got 300"]


def test_it_refuses_a_default_off_the_step_grid():
    assert problems(name="image_size", type="int", default=250, min=32, max=1024, step=16) == [
        "default must be a multiple of 16 from 32 to 1024, got 250"]


def test_it_refuses_a_default_not_among_the_choices():
    assert problems(name="d", type="enum", default="diagonal", choices=["horizontal", "vertical"]) == [
        'default must be one of "horizontal", "vertical"; got "diagonal"']


def test_it_refuses_a_default_of_the_wrong_type():
    assert problems(name="flag", type="bool", default=1) == ["default must be true or false, got 1"]
    assert problems(name="n", type="int", default="3") == ['default must be an integer, got "3"']


def test_it_refuses_an_enum_without_choices():
    assert problems(name="d", type="enum", default=None) == ["an enum parameter needs a non-empty list of choices"]
    assert problems(name="d", type="enum", default=None, choices=[]) == [
        "an enum parameter needs a non-empty list of choices"]


def test_it_refuses_duplicate_choices():
    assert problems(name="d", type="enum", default="a", choices=["a", "a"]) == ["choices contain duplicates"]


def test_it_refuses_bounds_and_choices_on_types_that_have_none():
    assert problems(name="flag", type="bool", default=True, max=1) == ["max is only for int and float parameters, not bool"]
    assert problems(name="n", type="int", default=1, choices=[1, 2]) == ["choices are only for enum parameters, not int"]
    assert problems(name="s", type="string", default="a", log_scale=True) == [
        "log_scale is only for int and float parameters, not string"]


def test_it_refuses_fractional_bounds_on_an_int():
    assert problems(name="n", type="int", default=2, min=0.5, max=4) == [
        "min must be a whole number for an int parameter, got 0.5"]


def test_it_refuses_a_name_that_is_not_an_identifier():
    assert problems(name="batch size", type="int", default=1) == [
        'name "batch size" must be letters, digits and underscores, not starting with a digit']


def test_it_allows_a_null_default_meaning_computed_at_run_time():
    assert problems(name="num_items_per_epoch", type="int", default=None, min=1) == []


def test_declaration_problems_reports_shape_errors_by_field():
    assert declaration_problems({"name": "x", "type": "complex", "default": 1}) == [
        "type: Input should be 'int', 'float', 'bool', 'enum' or 'string'"]
    assert declaration_problems({"name": "x", "type": "int", "min": True}) == [
        "min: must be a number or null, got true"]
    assert declaration_problems({"name": "x", "type": "int", "maximum": 3}) == [
        "maximum: Extra inputs are not permitted"]


def test_public_dict_shows_int_bounds_as_ints():
    spec = HyperparameterSpec(name="batch_size", type="int", default=32.0, min=1.0, max=128.0, step=1.0)
    pub = spec.public_dict()
    assert (pub["default"], pub["min"], pub["max"], pub["step"]) == (32, 1, 128, 1)
    assert all(type(pub[k]) is int for k in ("default", "min", "max", "step"))


def test_json_schema_describes_types_bounds_grid_choices_and_forbids_extras():
    schema = json_schema([
        {"name": "batch_size", "type": "int", "default": 32, "min": 1, "max": 128, "step": 1,
         "description": "images per step"},
        {"name": "odd", "type": "int", "default": 3, "min": 1, "max": 9, "step": 2},
        {"name": "lrate", "type": "float", "default": 0.001, "min": 0.0, "log_scale": True},
        {"name": "flip", "type": "bool", "default": False},
        {"name": "direction", "type": "enum", "default": "horizontal", "choices": ["horizontal", "vertical"]},
        {"name": "items", "type": "int", "default": None, "min": 1},
    ])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["batch_size"] == {
        "title": "batch_size", "type": "integer", "default": 32, "minimum": 1, "maximum": 128,
        "x-step": 1, "x-step-origin": 1, "multipleOf": 1, "description": "images per step"}
    # 1 + 2k is not a multiple of 2: JSON Schema's multipleOf would be wrong, so only x-step.
    assert "multipleOf" not in props["odd"] and props["odd"]["x-step-origin"] == 1
    assert props["lrate"] == {"title": "lrate", "type": "number", "default": 0.001, "minimum": 0.0,
                              "x-log-scale": True}
    assert props["flip"] == {"title": "flip", "type": "boolean", "default": False}
    assert props["direction"]["enum"] == ["horizontal", "vertical"] and "type" not in props["direction"]
    assert props["items"]["type"] == ["integer", "null"] and props["items"]["default"] is None


def test_json_schema_is_valid_draft_2020_12_and_agrees_on_simple_cases():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json_schema([{"name": "batch_size", "type": "int", "default": 32, "min": 1, "max": 128, "step": 1}])
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"batch_size": 64})
    assert not validator.is_valid({"batch_size": 0})
    assert not validator.is_valid({"batchsize": 8})
