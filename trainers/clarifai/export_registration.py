"""Registers the templates' exportable model under each template's trainer key (a module of
its own: templates.py imports the predictor, which imports exportable.py)."""
from trainers.trainer_registry import register_exportable

from .exportable import ClarifaiExportable
from .templates import TEMPLATES

for _key in TEMPLATES:
    register_exportable(_key)(ClarifaiExportable)
