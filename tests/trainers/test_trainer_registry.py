import json

import pytest
import torch

from trainers import families
from trainers.core import TrainerError


def test_fai_cls_registers_itself_without_a_manual_import():
    assert "fai_cls" in families.trainer_keys()


def test_an_unknown_trainer_key_is_a_trainer_error(tmp_path):
    with pytest.raises(TrainerError) as error:
        families.build_trainer("no_such_trainer", {}, None, tmp_path)
    assert error.value.code == "unknown_trainer"


class _FlatExportable:
    """The smallest Exportable: the graph flattens the batch."""
    classes, input_size, output_names = ["a"], (4, 4), ("logits",)

    def __init__(self, artifact_dir):
        self.artifact_dir = artifact_dir

    def build_graph(self):
        return torch.nn.Flatten().eval()

    def preprocess(self, images):
        return torch.ones(len(images), 3, 4, 4)

    def postprocess(self, outputs, images, options=None):
        return [[{"shape": list(outputs["logits"].shape), "sum": float(outputs["logits"].sum())}] for _ in images]


def test_load_predictor_dispatches_on_the_artifacts_trainer_key(tmp_path, monkeypatch):
    family = families.TrainerFamily(key="test_only", name="test", hyperparameters=None, tasks=(),
                                            recipe=None, exportable=_FlatExportable)
    monkeypatch.setitem(families._FAMILIES, "test_only", family)
    (tmp_path / "config.json").write_text(json.dumps({"trainer": "test_only"}))
    predictor = families.load_predictor(tmp_path, precision="fp32", device="cpu")
    assert predictor.exportable.artifact_dir == tmp_path
    assert predictor.predict(["an image"]) == [[{"shape": [1, 48], "sum": 48.0}]]


def test_a_missing_trainer_package_is_skipped_but_a_broken_one_is_not(tmp_path, monkeypatch):
    families._import_package("trainers.not_written_yet")  # tolerated: not built yet
    (tmp_path / "broken_trainer_pkg").mkdir()
    (tmp_path / "broken_trainer_pkg" / "__init__.py").write_text("import a_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing"):
        families._import_package("broken_trainer_pkg")
