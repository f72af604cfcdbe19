"""The five Clarifai visual-classification templates as Recipes of the shared engine.

Importing the package registers each template's trainer family (`templates.TEMPLATES`) with
`trainers.trainer_registry`.
"""
from . import templates  # noqa: F401  (registration)
