"""Validation of client-supplied hyperparameter values (resolve_hyperparameters)."""
import math

import pytest

from training_templates.hyperparameter_specs import HyperparameterErrors, resolve_hyperparameters

BATCH = {"name": "batch_size", "type": "int", "default": 32, "min": 1, "max": 128, "step": 1}
IMAGE = {"name": "image_size", "type": "int", "default": 256, "min": 32, "max": 1024, "step": 16}
FLIP_P = {"name": "flip_probability", "type": "float", "default": 0.5, "min": 0.0, "max": 1.0, "step": 0.1}
LRATE = {"name": "per_item_lrate", "type": "float", "default": 0.000234375, "min": 0.0}
FLAG = {"name": "average_horizontal_flips", "type": "bool", "default": True}
DIRECTION = {"name": "flip_direction", "type": "enum", "default": "horizontal", "choices": ["horizontal", "vertical"]}
WEIGHTS = {"name": "pretrained_weights", "type": "string", "default": "ImageNet-1k"}
ITEMS = {"name": "num_items_per_epoch", "type": "int", "default": None, "min": 1}
LOGREG = {"name": "logreg", "type": "int", "default": 1, "min": 0, "max": 1, "step": 1}
ALL = [BATCH, IMAGE, FLIP_P, LRATE, FLAG, DIRECTION, WEIGHTS, ITEMS, LOGREG]


def errors_for(specs, values):
    with pytest.raises(HyperparameterErrors) as info:
        resolve_hyperparameters(specs, values)
    return info.value.errors


def test_it_fills_every_default_when_nothing_is_given():
    assert resolve_hyperparameters(ALL, {}) == {
        "batch_size": 32, "image_size": 256, "flip_probability": 0.5, "per_item_lrate": 0.000234375,
        "average_horizontal_flips": True, "flip_direction": "horizontal",
        "pretrained_weights": "ImageNet-1k", "num_items_per_epoch": None, "logreg": 1,
    }


def test_it_keeps_given_values_and_fills_the_rest():
    resolved = resolve_hyperparameters([BATCH, FLAG], {"batch_size": 64})
    assert resolved == {"batch_size": 64, "average_horizontal_flips": True}


def test_it_rejects_batch_size_below_min_with_the_grid_message():
    assert errors_for([BATCH], {"batch_size": 0}) == {
        "batch_size": ["must be a multiple of 1 from 1 to 128, got 0"]}


def test_it_accepts_both_inclusive_bounds():
    assert resolve_hyperparameters([BATCH], {"batch_size": 1})["batch_size"] == 1
    assert resolve_hyperparameters([BATCH], {"batch_size": 128})["batch_size"] == 128


def test_it_rejects_batch_size_above_max():
    assert errors_for([BATCH], {"batch_size": 129}) == {
        "batch_size": ["must be a multiple of 1 from 1 to 128, got 129"]}


def test_it_rejects_off_step_image_size():
    # 32 + 16k: 48 is on the grid, 40 is not.
    assert resolve_hyperparameters([IMAGE], {"image_size": 48})["image_size"] == 48
    assert errors_for([IMAGE], {"image_size": 40}) == {
        "image_size": ["must be a multiple of 16 from 32 to 1024, got 40"]}


def test_it_accepts_point_three_on_a_point_one_grid_and_refuses_point_three_five():
    # 0.3 / 0.1 is 2.9999999999999996 in binary floating point; the grid uses decimals.
    assert resolve_hyperparameters([FLIP_P], {"flip_probability": 0.3})["flip_probability"] == 0.3
    assert resolve_hyperparameters([FLIP_P], {"flip_probability": 0.7})["flip_probability"] == 0.7
    assert errors_for([FLIP_P], {"flip_probability": 0.35}) == {
        "flip_probability": ["must be a multiple of 0.1 from 0.0 to 1.0, got 0.35"]}


def test_it_anchors_the_grid_at_min():
    odd = {"name": "odd", "type": "int", "default": 3, "min": 1, "max": 9, "step": 2}
    assert resolve_hyperparameters([odd], {"odd": 7})["odd"] == 7
    assert errors_for([odd], {"odd": 4}) == {"odd": ["must be 1 plus a multiple of 2, up to 9, got 4"]}


def test_it_anchors_the_grid_at_zero_when_min_is_null():
    quarter = {"name": "q", "type": "float", "default": 0.5, "step": 0.25, "max": 2.0}
    assert resolve_hyperparameters([quarter], {"q": -0.75})["q"] == -0.75
    assert errors_for([quarter], {"q": 0.3}) == {"q": ["must be a multiple of 0.25 up to 2.0, got 0.3"]}


def test_it_rejects_a_fractional_integer():
    assert errors_for([BATCH], {"batch_size": 2.5}) == {"batch_size": ["must be an integer, got 2.5"]}


def test_it_accepts_a_whole_float_for_an_int_and_returns_an_int():
    value = resolve_hyperparameters([BATCH], {"batch_size": 30.0})["batch_size"]
    assert value == 30 and type(value) is int


def test_it_rejects_a_bool_for_an_int():
    assert errors_for([BATCH], {"batch_size": True}) == {"batch_size": ["must be an integer, got true"]}


def test_it_rejects_a_numeric_string_for_an_int():
    assert errors_for([BATCH], {"batch_size": "3"}) == {"batch_size": ['must be an integer, got "3"']}


def test_it_accepts_an_int_for_a_float_and_returns_a_float():
    value = resolve_hyperparameters([FLIP_P], {"flip_probability": 1})["flip_probability"]
    assert value == 1.0 and type(value) is float


def test_it_rejects_bools_and_strings_for_a_float():
    assert errors_for([LRATE], {"per_item_lrate": False}) == {"per_item_lrate": ["must be a number, got false"]}
    assert errors_for([LRATE], {"per_item_lrate": "0.1"}) == {"per_item_lrate": ['must be a number, got "0.1"']}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_it_rejects_non_finite_floats(bad):
    errors = errors_for([LRATE], {"per_item_lrate": bad})
    assert errors["per_item_lrate"][0].startswith("must be a finite number")


def test_it_rejects_a_negative_learning_rate_below_min_without_max():
    assert errors_for([LRATE], {"per_item_lrate": -0.001}) == {
        "per_item_lrate": ["must be at least 0.0, got -0.001"]}


def test_it_accepts_only_true_or_false_for_a_bool():
    assert resolve_hyperparameters([FLAG], {"average_horizontal_flips": False}) == {"average_horizontal_flips": False}
    for bad, shown in ((0, "0"), (1, "1"), ("true", '"true"')):
        assert errors_for([FLAG], {"average_horizontal_flips": bad}) == {
            "average_horizontal_flips": [f"must be true or false, got {shown}"]}


def test_it_treats_clarifai_logreg_as_a_zero_or_one_int():
    assert resolve_hyperparameters([LOGREG], {"logreg": 0}) == {"logreg": 0}
    assert errors_for([LOGREG], {"logreg": 2}) == {"logreg": ["must be a multiple of 1 from 0 to 1, got 2"]}
    assert errors_for([LOGREG], {"logreg": False}) == {"logreg": ["must be an integer, got false"]}


def test_it_rejects_an_enum_value_not_among_the_choices():
    assert resolve_hyperparameters([DIRECTION], {"flip_direction": "vertical"}) == {"flip_direction": "vertical"}
    assert errors_for([DIRECTION], {"flip_direction": "Vertical"}) == {
        "flip_direction": ['must be one of "horizontal", "vertical"; got "Vertical"']}


def test_it_matches_enum_choices_by_type_too():
    sizes = {"name": "depth", "type": "enum", "default": 50, "choices": [18, 50]}
    assert errors_for([sizes], {"depth": 50.0}) == {"depth": ["must be one of 18, 50; got 50.0"]}
    assert errors_for([sizes], {"depth": "50"}) == {"depth": ['must be one of 18, 50; got "50"']}


def test_it_accepts_a_str_subclass_as_a_string_choice():
    class JSONString(str):  # what Django's forms.JSONField returns for "vertical"
        pass

    assert resolve_hyperparameters([DIRECTION], {"flip_direction": JSONString("vertical")}) == {"flip_direction": "vertical"}


def test_it_rejects_a_non_string_for_a_string():
    assert errors_for([WEIGHTS], {"pretrained_weights": 1}) == {"pretrained_weights": ["must be a string, got 1"]}


def test_it_rejects_unknown_names_listing_the_allowed_ones():
    assert errors_for([BATCH, FLAG], {"batchsize": 8}) == {
        "batchsize": ["unknown hyperparameter; allowed: batch_size, average_horizontal_flips"]}


def test_it_refuses_null_when_the_default_is_not_null():
    assert errors_for([BATCH], {"batch_size": None}) == {
        "batch_size": ["must be an integer, got null (omit it to use the default 32)"]}


def test_it_accepts_null_when_the_default_is_null():
    assert resolve_hyperparameters([ITEMS], {"num_items_per_epoch": None}) == {"num_items_per_epoch": None}
    assert resolve_hyperparameters([ITEMS], {"num_items_per_epoch": 500}) == {"num_items_per_epoch": 500}


def test_it_collects_every_field_error_at_once():
    errors = errors_for(ALL, {"batch_size": 0, "flip_direction": "up", "average_horizontal_flips": 1, "extra": 1})
    assert set(errors) == {"batch_size", "flip_direction", "average_horizontal_flips", "extra"}


def test_it_refuses_values_that_are_not_an_object():
    assert errors_for([BATCH], [1, 2]) == {"non_field_errors": ["must be an object of name: value, got [1, 2]"]}


def test_it_revalidates_a_stored_snapshot_of_plain_dicts():
    # The worker gets job.hyperparameter_spec (public dicts) and job.hyperparameters.
    snapshot = [dict(BATCH, choices=None, log_scale=False, description="")]
    assert resolve_hyperparameters(snapshot, {"batch_size": 16}) == {"batch_size": 16}


UNBOUNDED_EPOCHS = {"name": "num_epochs", "type": "int", "default": 20, "min": 1, "step": 1}


@pytest.mark.parametrize("value, message", [
    (1e308, "must be a multiple of 1 from 1 to 128, got 1e+308"),  # far past max: no grid arithmetic
    (10**400, "must be a finite number"),  # beyond any float
])
def test_enormous_numbers_get_a_field_error_not_a_crash(value, message):
    assert message in errors_for([BATCH], {"batch_size": value})["batch_size"][0]


def test_an_enormous_number_on_an_unbounded_grid_is_refused_as_off_the_grid():
    [message] = errors_for([UNBOUNDED_EPOCHS], {"num_epochs": 1.5e308})["num_epochs"]
    assert "a multiple of 1 from 1 upward" in message
