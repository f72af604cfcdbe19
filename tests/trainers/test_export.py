"""Every trainer's artifact exports; the ONNX file, run by ONNX Runtime on the same images as
the PyTorch predictor (fp32), gives the same probabilities within 1e-3 and the same top-1."""
import base64
import io
import json
import random
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from trainers.core import DatasetSpec, TrainerError
from trainers.export import OnnxPredictor, export_model, load_onnx_predictor
from trainers.export.onnx_graph import export_onnx
from trainers.export.package import check_onnx
from trainers.families import build_trainer
from trainers.families import load_exportable, load_predictor

import clarifai_toys
import fai_cls_data
from fai_mf_toys import TINY_ENGINE_OVERRIDES, TINY_HYPERPARAMETERS, TINY_MODEL_OVERRIDES, draw, write_coco_dataset
from fai_mf_toys import write_semantic_dataset

TOLERANCE = 1e-3
CLARIFAI = {
    "clarifai_inception_batchnorm": {"logreg": 1},
    "clarifai_inception_v2": {"logreg": 0},
    "clarifai_resnext": {"logreg": 1},
    "clarifai_inception_transfer_embed_norm": {"logreg": 0, "average_horizontal_flips": True},
    "clarifai_resnet50_rsb_a1": {"pretrained_weights": "None", "warmup_iters": 2},
}
FAST = {"fai_cls"}  # the others train and export in 3-10 s each


def fit_fai_cls(root):
    data = fai_cls_data.write_dataset(root / "data", {"train": 8, "valid": 4})
    hp = dict(backbone="tiny_test", resolution=32, batch_size=8, epochs=1, hidden_dim=16, features="res3")
    return build_trainer("fai_cls", hp, DatasetSpec.load(data), root / "work", device="cpu").fit().artifact_dir


def fit_clarifai(key, root):
    data = clarifai_toys.make_dataset(root / "data", classes=("red", "blue", "green"), per_class=2, valid_per_class=1)
    hp = {"image_size": 32, "batch_size": 4, "num_epochs": 1, **CLARIFAI[key]}
    return build_trainer(key, hp, data, root / "work", device="cpu").fit().artifact_dir


def fit_fai_mf(root, semantic=False):
    data = write_semantic_dataset(root / "data") if semantic else write_coco_dataset(root / "data")
    hp = {**TINY_HYPERPARAMETERS, "epochs": 1}
    trainer = build_trainer("fai_mf", hp, data, root / "work", model_overrides=TINY_MODEL_OVERRIDES,
                           engine_overrides={**TINY_ENGINE_OVERRIDES, "items_per_epoch": 4})
    return trainer.fit().artifact_dir


def images_for(key):
    if key.startswith("fai_mf"):
        return [draw(1)[0], draw(2)[0].resize((80, 48))]
    if key == "fai_cls":
        rng = random.Random(7)
        return [fai_cls_data.draw(["red"], rng), fai_cls_data.draw(["blue"], rng, size=40).convert("L")]
    return [clarifai_toys.draw("red", 7), clarifai_toys.draw("green", 8, size=(50, 36)).convert("L")]


TRAINERS = {
    "fai_cls": fit_fai_cls,
    "fai_mf_instance": fit_fai_mf,
    "fai_mf_semantic": lambda root: fit_fai_mf(root, semantic=True),
    **{key: (lambda root, key=key: fit_clarifai(key, root)) for key in CLARIFAI},
}


@pytest.fixture(autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("key", [k if k in FAST else pytest.param(k, marks=pytest.mark.slow) for k in TRAINERS])
def test_onnx_runtime_gives_the_pytorch_predictor_s_probabilities_and_top_1(tmp_path, key):
    artifact = TRAINERS[key](tmp_path)
    exported = export_model(artifact, "onnx", tmp_path / "export")
    model = onnx.load(str(exported / "model.onnx"))
    assert model.opset_import[0].version >= 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch axis

    images = images_for(key)
    torch_predictor = load_predictor(artifact, precision="fp32")
    onnx_predictor = load_onnx_predictor(artifact, exported / "model.onnx", device="cpu")
    exportable = load_exportable(artifact)
    batch = exportable.preprocess(images)
    with torch.inference_mode():
        graph_outputs = exportable.build_graph()(batch)
    graph_outputs = (graph_outputs,) if isinstance(graph_outputs, torch.Tensor) else graph_outputs
    expected = exportable.probabilities(dict(zip(exportable.output_names, graph_outputs)))
    got = exportable.probabilities(onnx_predictor.outputs(batch))
    for name in expected:
        assert (expected[name] - got[name]).abs().max() <= TOLERANCE, name
        assert torch.equal(expected[name].argmax(-1), got[name].argmax(-1)), name

    by_torch, by_onnx = torch_predictor.predict(images), onnx_predictor.predict(images)
    assert len(by_torch) == len(by_onnx) == len(images)
    for mine, theirs in zip(by_torch, by_onnx):
        assert [d["label"] for d in mine] == [d["label"] for d in theirs]  # top-1 first, and every one after
        assert [d["conf"] for d in mine] == pytest.approx([d["conf"] for d in theirs], abs=TOLERANCE)


def test_the_onnx_graph_takes_any_batch_size(tmp_path):
    artifact = fit_fai_cls(tmp_path)
    predictor = load_onnx_predictor(artifact, export_model(artifact, "onnx", tmp_path / "e") / "model.onnx")
    rng = random.Random(3)
    for size in (1, 5):
        assert len(predictor.predict([fai_cls_data.draw(["red"], rng) for _ in range(size)])) == size
    assert predictor.predict([]) == []


def test_a_pytorch_export_holds_the_weights_config_labels_and_a_readme_and_loads_as_it_is(tmp_path):
    artifact = fit_fai_cls(tmp_path)
    exported = export_model(artifact, "pytorch", tmp_path / "export")
    assert sorted(p.name for p in exported.iterdir()) == ["README.md", "config.json", "labels.json", "weights.pt"]
    config = json.loads((exported / "config.json").read_text())
    assert config["hyperparameters"]["resolution"] == 32
    assert config["preprocessing"]["input_size"] == [32, 32]
    assert config["preprocessing"]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert config["preprocessing"]["resize"]["rule"] == "stretch"
    assert json.loads((exported / "labels.json").read_text()) == json.loads((artifact / "labels.json").read_text())
    assert "load_predictor" in (exported / "README.md").read_text()
    images = images_for("fai_cls")
    assert load_predictor(exported, precision="fp32").predict(images) == \
        load_predictor(artifact, precision="fp32").predict(images)


def test_the_onnx_readme_s_own_code_runs_the_model_as_the_platform_does(tmp_path):
    """The README's plain onnxruntime + numpy + Pillow code, run as a user would in the
    unzipped folder, gives the platform's top-1 (its resampling differs slightly)."""
    artifact = fit_fai_cls(tmp_path)
    exported = export_model(artifact, "onnx", tmp_path / "export")
    readme = (exported / "README.md").read_text()
    (exported / "run.py").write_text("\n".join(block.split("```")[0] for block in readme.split("```python\n")[1:]))
    rng = random.Random(11)
    for name, colour in (("a.png", "red"), ("b.png", "blue")):
        fai_cls_data.draw([colour], rng, size=48).save(exported / name)
    run = (exported / "run.py").read_text().replace('"a.jpg", "b.jpg"', '"a.png", "b.png"')
    (exported / "run.py").write_text(run)
    printed = subprocess.run([sys.executable, "run.py"], cwd=exported, capture_output=True, text=True, check=True).stdout
    by_readme = [line.rsplit(" ", 1) for line in printed.strip().splitlines()]
    platform = OnnxPredictor(load_exportable(artifact), exported / "model.onnx").predict(
        [Image.open(exported / name) for name in ("a.png", "b.png")])
    assert [label for label, _ in by_readme] == [p[0]["label"] for p in platform]
    assert [float(conf) for _, conf in by_readme] == pytest.approx([p[0]["conf"] for p in platform], abs=0.05)


@pytest.mark.parametrize("semantic", [False, True])
def test_the_segmentation_readme_s_own_code_gives_the_platform_s_segments(tmp_path, semantic):
    """Its numpy post-processing, run on the ONNX outputs at threshold 0 (a model trained for one
    tiny epoch scores low), finds the platform's segments: the same classes, scores and mask
    sizes, up to the README's Pillow resampling."""
    artifact = fit_fai_mf(tmp_path, semantic=semantic)
    exported = export_model(artifact, "onnx", tmp_path / "export")
    config = json.loads((exported / "config.json").read_text())
    config["model"]["threshold"] = 0.0
    (exported / "config.json").write_text(json.dumps(config))
    readme = (exported / "README.md").read_text()
    assert "def segments(" in readme
    images = images_for("fai_mf")
    for name, image in zip(("a.png", "b.png"), images):
        image.save(exported / name)
    code = "\n".join(block.split("```")[0] for block in readme.split("```python\n")[1:])
    (exported / "run.py").write_text(code.replace('"a.jpg", "b.jpg"', '"a.png", "b.png"'))
    printed = subprocess.run([sys.executable, "run.py"], cwd=exported, capture_output=True, text=True, check=True).stdout
    by_readme = [line.rsplit(" ", 2) for line in printed.strip().splitlines()]
    predictor = OnnxPredictor(load_exportable(artifact), exported / "model.onnx")
    platform = [s for segments in predictor.predict([Image.open(exported / n) for n in ("a.png", "b.png")],
                                                    {"threshold": 0.0}) for s in segments]
    assert len(by_readme) == len(platform) > 0
    assert [label for label, _, _ in by_readme] == [s["label"] for s in platform]
    assert [float(score) for _, score, _ in by_readme] == pytest.approx([s["conf"] for s in platform], abs=0.02)
    pixels = [int(np.asarray(Image.open(io.BytesIO(base64.b64decode(s["mask"])))).astype(bool).sum()) for s in platform]
    assert [int(n) for _, _, n in by_readme] == pytest.approx(pixels, rel=0.05, abs=3)


class ScalesByItsFirstPixel(torch.nn.Module):
    """Reads a value out of its input as a Python number: a trace freezes the example's."""

    def forward(self, images):
        return images.flatten(1)[:, :4] * (10 * images[0, 0, 0, 0].item())


class ToyExportable:
    classes = ["a", "b", "c", "d"]
    input_size = (2, 2)
    output_names = ("logits",)

    def probabilities(self, outputs):
        return {"logits": outputs["logits"].softmax(-1)}


def test_an_onnx_file_that_does_not_reproduce_its_graph_is_refused(tmp_path):
    graph = ScalesByItsFirstPixel().eval()
    path = export_onnx(graph, ToyExportable.input_size, ToyExportable.output_names, tmp_path / "model.onnx")
    with pytest.raises(TrainerError) as refused:
        check_onnx(ToyExportable(), graph, path)
    assert refused.value.code == "export_mismatch" and "logits probabilities differ" in refused.value.message


@pytest.mark.parametrize("key", [k if k in FAST else pytest.param(k, marks=pytest.mark.slow)
                                 for k in ("fai_cls", "fai_mf_instance", "clarifai_resnext")])
def test_every_family_exports_an_int8_graph_behind_its_gate(tmp_path, key):
    artifact = TRAINERS[key](tmp_path)
    dataset = DatasetSpec.load(tmp_path / "data")
    exported = export_model(artifact, "onnx-int8", tmp_path / "int8", dataset=dataset, max_drop_points=100.0)
    graph = onnx.load(str(exported / "model.onnx"))
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in graph.graph.node}
    gate = json.loads((exported / "config.json").read_text())["quantization"]
    assert gate["metric"] in ("accuracy", "f1_macro", "segm/AP")
    assert gate["drop_points"] == pytest.approx((gate["original"] - gate["quantized"]) * (1 if key.startswith("fai_mf")
                                                                                          else 100), abs=1e-3)
    assert gate["images_per_s_batch_1"]["onnxruntime-int8"] > 0
    # The model that learned its colours predicts them in INT8 as in fp32 (the toy Clarifai and
    # fai-mf models, one epoch from random weights, are near chance: their ranks can swap).
    if key == "fai_cls":
        images = images_for(key)
        int8 = load_onnx_predictor(artifact, exported / "model.onnx", device="cpu")
        fp32 = load_onnx_predictor(artifact, export_model(artifact, "onnx", tmp_path / "fp32") / "model.onnx",
                                   device="cpu")
        assert [p[0]["label"] for p in int8.predict(images)] == [p[0]["label"] for p in fp32.predict(images)]


def test_an_int8_graph_that_loses_more_than_the_gate_allows_is_refused_with_both_figures(tmp_path):
    artifact = fit_fai_cls(tmp_path)
    dataset = DatasetSpec.load(tmp_path / "data")
    with pytest.raises(TrainerError) as refused:
        export_model(artifact, "onnx-int8", tmp_path / "int8", dataset=dataset, max_drop_points=-1.0)
    assert refused.value.code == "accuracy_gate"
    assert "against" in refused.value.message and "QUANTIZED_MAX_METRIC_DROP" in refused.value.message


def test_the_gate_measures_the_drop_in_points_of_the_main_metric():
    from trainers.export.quantization import gate, main_metric

    original = {"task": "classification", "multi_label": False, "runtime": "torch", "split": "valid",
                "metrics": {"accuracy": 0.9}}
    quantized = {**original, "runtime": "onnxruntime-int8", "metrics": {"accuracy": 0.885}}
    assert main_metric(original) == ("accuracy", 0.9, 100.0)
    assert gate(original, quantized, 2.0)["drop_points"] == pytest.approx(1.5)  # 0.015 of accuracy
    with pytest.raises(TrainerError, match="0.8850 against 0.9000"):
        gate(original, quantized, 1.0)
    instance = {"task": "instance_segmentation", "runtime": "torch", "split": "valid", "metrics": {"segm/AP": 40.0}}
    assert gate(instance, {**instance, "metrics": {"segm/AP": 39.5}}, 1.0)["drop_points"] == pytest.approx(0.5)
