"""Export formats and file names: constants the platform reads without loading torch or onnx."""
from trainers.core import INT8_RUNTIME, ONNX_RUNTIME

FORMATS = ("pytorch", "onnx", "onnx-int8")
ONNX_FILE = "model.onnx"  # in an export's zip, whichever precision it holds
INT8_FILE = "model.int8.onnx"  # where deployments load the INT8 graph from

# The export each ONNX runtime (trainers.core.RUNTIMES) loads.
RUNTIME_FORMATS = {ONNX_RUNTIME: "onnx", INT8_RUNTIME: "onnx-int8"}

# What a predict request may set, per request, within these bounds: (type, minimum, maximum).
# A family honours those its Exportable's `prediction_options` names, each defaulting to the
# model's own (trainers/export/exportable.py).
PREDICT_OPTIONS = {
    "threshold": (float, 0.0, 1.0),  # results below this confidence are left out
    "mask_threshold": (float, 0.0, 1.0),  # segmentation: a pixel is in a mask above this probability
    "top_k": (int, 1, 1000),  # at most this many results per image, highest confidence first
}
# A predict request's `threshold: "tuned"`: each class at the F1-optimal threshold that the model's
# evaluation report found for it (multi-label classification).
TUNED = "tuned"
