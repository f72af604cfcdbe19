"""The README of an export: what is inside and how to run it, from the export's config."""
from __future__ import annotations

import json
from typing import Any

ONNX_USAGE = '''\
```python
import json

import numpy as np
import onnxruntime as ort  # pip install onnxruntime numpy pillow
from PIL import Image

config, labels = json.load(open("config.json")), json.load(open("labels.json"))
pre = config["preprocessing"]


def preprocess(path):
    image = Image.open(path).convert("RGB")
    resize = pre["resize"]
    if "short_side" in resize:  # keep the aspect ratio, then take the centre square
        scale = resize["short_side"] / min(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
        height, width = resize["crop"]
        left, top = (image.width - width) // 2, (image.height - height) // 2
        image = image.crop((left, top, left + width, top + height))
    else:  # stretch to the input size
        height, width = resize["size"]
        image = image.resize((width, height), Image.BILINEAR)
    x = np.asarray(image, dtype=np.float32) * pre["scale"]
    x = (x - np.array(pre["mean"], np.float32)) / np.array(pre["std"], np.float32)
    return x.transpose(2, 0, 1)  # HWC -> CHW


session = ort.InferenceSession("model.onnx")
batch = np.stack([preprocess(p) for p in ["a.jpg", "b.jpg"]]).astype(np.float32)  # any batch size
outputs = dict(zip(config["export"]["outputs"], session.run(None, {"images": batch})))
```
'''

CLASSIFICATION_POSTPROCESS = '''\
```python
logits = outputs["logits"]
if config["postprocessing"].startswith("sigmoid"):
    probabilities = 1 / (1 + np.exp(-logits))
else:
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
for row in probabilities:
    best = int(row.argmax())
    print(labels[best], float(row[best]))
```
'''

SEGMENTATION_POSTPROCESS = '''\
```python
from PIL import Image as PILImage

model = config["model"]  # postprocessing_type, threshold, mask_threshold, predict_all_pixels, num_queries
sizes = [PILImage.open(p).size for p in ["a.jpg", "b.jpg"]]  # (width, height): masks come at this size


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def upsample(mask_logits, width, height):  # (Q, h, w) -> (Q, height, width), bilinear
    return np.stack([np.asarray(PILImage.fromarray(m.astype(np.float32), mode="F").resize((width, height),
                                                                                        PILImage.BILINEAR))
                     for m in mask_logits]) if len(mask_logits) else np.zeros((0, height, width), np.float32)


def segments(class_logits, mask_logits, width, height):
    """One image's [(class id, score, boolean mask)], highest score first, as predict returns them."""
    probs = softmax(class_logits)[:, :-1]  # the last class is "no object"
    if model["postprocessing_type"] == "instance":  # the best (query, class) pairs
        flat = probs.flatten()
        top = np.argsort(-flat, kind="stable")[:model["num_queries"]]
        queries, classes = top // probs.shape[1], top % probs.shape[1]
        mask_probs = sigmoid(upsample(mask_logits[queries], width, height))
        masks = mask_probs > model["mask_threshold"]
        inside = (mask_probs * masks).reshape(len(top), -1).sum(1) / (masks.reshape(len(top), -1).sum(1) + 1e-6)
        scores = flat[top] * inside
        keep = scores > model["threshold"]
        found = zip(classes[keep], scores[keep], masks[keep])
    elif model["predict_all_pixels"]:  # every pixel takes its most probable class
        pixel = np.einsum("qc,qhw->chw", probs, sigmoid(upsample(mask_logits, width, height)))
        class_map, share = pixel.argmax(0), pixel / np.maximum(pixel.sum(0, keepdims=True), 1e-12)
        found = [(c, share[c][class_map == c].mean(), class_map == c) for c in np.unique(class_map)]
    else:  # semantic, one segment per confident query
        scores, classes = probs.max(1), probs.argmax(1)
        keep = scores > model["threshold"]
        masks = sigmoid(upsample(mask_logits[keep], width, height)) > model["mask_threshold"]
        found = zip(classes[keep], scores[keep], masks)
    found = [(int(c), float(s), m) for c, s, m in found if m.any()]  # an empty mask is no segment
    return sorted(found, key=lambda segment: -segment[1])


for class_logits, mask_logits, (width, height) in zip(outputs["pred_logits"], outputs["pred_masks"], sizes):
    for class_id, score, mask in segments(class_logits, mask_logits, width, height):
        print(labels[class_id], score, int(mask.sum()))
```
'''

PYTORCH_USAGE = '''\
`weights.pt` is the state dict of the trainer's model (`torch.load("weights.pt",
weights_only=True)`). With the platform's `trainers/` package on the Python path (pure
PyTorch: no Django, no server), this folder loads as it is:

```python
from PIL import Image
from trainers.families import load_predictor

predictor = load_predictor("path/to/this/folder", precision="fp32")  # or "auto", "bf16"
print(predictor.predict([Image.open("a.jpg")]))  # [[{"cls_id", "label", "conf", ...}]]
```
'''


def render_readme(fmt: str, config: dict[str, Any], classes: list[str]) -> str:
    export = config["export"]
    lines = [
        f"# {config['trainer']} model ({fmt})", "",
        f"Exported from the training platform. {len(classes)} classes, in `labels.json` order.", "",
        "| file | what |", "|---|---|",
        f"| `{export['file']}` | " + ("the ONNX graph (opset {opset}, dynamic batch axis{int8})".format(
            opset=export["opset"], int8=", INT8: QDQ, per-channel int8 weights, uint8 activations"
            if fmt == "onnx-int8" else "")
            if fmt != "pytorch" else "PyTorch state dict") + " |",
        "| `config.json` | the resolved hyperparameters, `preprocessing`, `outputs`, `postprocessing` |",
        "| `labels.json` | class names; index = class id |", "",
        "## Input", "",
        "```json", json.dumps(config["preprocessing"], indent=2), "```", "",
        "## Outputs", "",
        *[f"- `{name}`: {meaning}" for name, meaning in config["outputs"].items()], "",
        f"Post-processing (outside the graph): {config['postprocessing']}.", "",
        "## Run it", "",
    ]
    if fmt != "pytorch":
        if "quantization" in config:
            gate = config["quantization"]
            lines += ["The graph is quantized to INT8 and runs in plain ONNX Runtime (no other package). Its "
                      f"{gate['metric']} on the {gate['split']} split was {gate['quantized']:.4f}, against "
                      f"{gate['original']:.4f} for the original ({gate['compared_with']}): a drop of "
                      f"{gate['drop_points']:.2f} points (at most {gate['max_drop_points']:g} allowed). "
                      "Feed it float32 images exactly as the fp32 graph; the QuantizeLinear nodes inside "
                      "convert them.", ""]
        lines += [f"Input `{export['input']['name']}`: float32 `{export['input']['shape']}`.", "", ONNX_USAGE]
        if list(config["outputs"]) == ["logits"]:
            lines += [CLASSIFICATION_POSTPROCESS]
        elif "pred_masks" in config["outputs"]:
            lines += ["Segments, as the platform's predict makes them (each mask at its image's size):", "",
                      SEGMENTATION_POSTPROCESS]
        lines += ["PIL's and torchvision's resampling differ slightly; the platform's own ONNX predictor "
                  "(`trainers.export.load_onnx_predictor`) applies exactly the preprocessing the model "
                  "was trained with.", ""]
    else:
        lines += [PYTORCH_USAGE]
    return "\n".join(lines)
