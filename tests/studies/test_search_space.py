"""A study's search space holds the template's bounds by construction: every set Optuna's
samplers propose, for every template of the catalogue, passes the validation a job gets; a
narrowing wider than the template is refused, naming the parameter."""
import optuna
import pytest

from platform_api.studies.search_space import compile_space, grid_values, on_declared_grid
from training_templates.catalogue_loader import read_catalogue
from training_templates.hyperparameter_specs import resolve_hyperparameters

SPECS = {entry.id: list(entry.specs) for entry in read_catalogue()}
SAMPLES = {"random": 200, "tpe": 80}  # TPE's proposals cost more; 20 of its 80 are its random start
optuna.logging.set_verbosity(optuna.logging.WARNING)


def proposals(space, sampler, count):
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for n in range(count):
        trial = study.ask(fixed_distributions=space)
        yield {name: on_declared_grid(name, value, space[name]) for name, value in trial.params.items()}
        study.tell(trial, float(n % 7))  # any objective: TPE's proposals after its start-up ones count too


@pytest.mark.parametrize("template_id", sorted(SPECS))
@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_every_proposed_set_lies_on_the_template_s_declared_grid(template_id, sampler):
    specs = SPECS[template_id]
    space, problems = compile_space(specs, "all", {}, sampler)
    assert not problems and space
    chooser = optuna.samplers.RandomSampler(seed=1) if sampler == "random" else \
        optuna.samplers.TPESampler(seed=1, n_startup_trials=20)
    seen = {name: set() for name in space}
    for values in proposals(space, chooser, SAMPLES[sampler]):
        resolve_hyperparameters(specs, values)  # raises on any value off its bounds, grid or choices
        for name, value in values.items():
            seen[name].add(value)
    assert all(len(values) > 1 for values in seen.values()), seen  # each parameter is really searched


@pytest.mark.parametrize("template_id", sorted(SPECS))
def test_a_grid_covers_exactly_the_declared_points(template_id):
    specs = {spec.name: spec for spec in SPECS[template_id]}
    stepped = {name: {"max": min(spec.max, spec.min + 20 * spec.step)} for name, spec in specs.items()
               if spec.type in ("int", "float") and spec.step and spec.min is not None and spec.max is not None}
    assert stepped
    for name, narrowing in stepped.items():
        space, problems = compile_space(list(specs.values()), {name: narrowing}, {}, "grid")
        assert not problems, problems
        points = grid_values(space[name])
        assert points[0] == specs[name].min and len(points) == len(set(points)) >= 2
        for point in points:
            resolve_hyperparameters(list(specs.values()), {name: point})


@pytest.mark.parametrize("search_space, sampler, name, message", [
    ({"learning_rate": {"min": 0.5, "max": 2.0}}, "tpe", "learning_rate", "max offers 2.0, which the template refuses"),
    ({"resolution": {"min": 40, "max": 512}}, "tpe", "resolution", "min offers 40"),
    ({"resolution": {"min": 32, "max": 512, "step": 8}}, "tpe", "resolution", "step offers 40,"),
    ({"learning_rate": {}}, "grid", "learning_rate", "the grid sampler needs a step"),
    ({"colour": {}}, "tpe", "colour", "unknown hyperparameter"),
    ({"pretrained_weights": {}}, "tpe", "pretrained_weights", "free-text parameter cannot be searched"),
    ({"epochs": {"min": 2, "max": 20, "log": True, "step": 2}}, "tpe", "epochs", "log scale and a step"),
    ({"epochs": {"minimum": 2}}, "tpe", "epochs", "unknown key 'minimum'"),
    ({"backbone": {"choices": ["resnet18", "vgg16"]}}, "tpe", "backbone", "choices offers 'vgg16'"),
])
def test_a_narrowing_the_template_refuses_is_named(search_space, sampler, name, message):
    _, problems = compile_space(SPECS["fai-cls"], search_space, {}, sampler)
    assert any(message in text for text in problems[name]), problems


def test_a_parameter_both_fixed_and_searched_is_refused_and_all_leaves_fixed_ones_and_the_seed_out():
    _, problems = compile_space(SPECS["fai-cls"], {"epochs": {}}, {"epochs": 3}, "tpe")
    assert "both fixed and searched" in problems["epochs"][0]
    space, _ = compile_space(SPECS["fai-cls"], "all", {"epochs": 3}, "tpe")
    assert "epochs" not in space and "seed" not in space and "learning_rate" in space
    assert space["learning_rate"].log and space["batch_size"].step == 1
