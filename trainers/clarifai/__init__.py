"""The five Clarifai visual-classification templates (seed 003) as Recipes of the shared engine.

Importing the package registers their trainer keys (`templates.TEMPLATES`) with
`trainers.trainer_registry`, and their exportable model (`export_registration`).
"""
from . import export_registration, templates  # noqa: F401  (registration)
