import json

import pytest

from trainers import trainer_registry
from trainers.core import TrainerError


def test_fai_cls_registers_itself_without_a_manual_import():
    assert "fai_cls" in trainer_registry.trainer_keys()


def test_an_unknown_trainer_key_is_a_trainer_error(tmp_path):
    with pytest.raises(TrainerError) as error:
        trainer_registry.build_trainer("no_such_trainer", {}, None, tmp_path)
    assert error.value.code == "unknown_trainer"


def test_load_predictor_dispatches_on_the_artifacts_trainer_key(tmp_path, monkeypatch):
    monkeypatch.setitem(trainer_registry._PREDICTORS, "test_only", lambda artifact_dir, precision: ("loaded", artifact_dir))
    (tmp_path / "config.json").write_text(json.dumps({"trainer": "test_only"}))
    assert trainer_registry.load_predictor(tmp_path) == ("loaded", tmp_path)


def test_a_missing_trainer_package_is_skipped_but_a_broken_one_is_not(tmp_path, monkeypatch):
    trainer_registry._import_package("trainers.not_written_yet")  # tolerated: not built yet
    (tmp_path / "broken_trainer_pkg").mkdir()
    (tmp_path / "broken_trainer_pkg" / "__init__.py").write_text("import a_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing"):
        trainer_registry._import_package("broken_trainer_pkg")
