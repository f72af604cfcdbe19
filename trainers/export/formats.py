"""Export formats and file names: constants the platform reads without loading torch or onnx."""

FORMATS = ("pytorch", "onnx")
ONNX_FILE = "model.onnx"
