"""The five Clarifai visual-classification templates (seed 003) as Recipes of the shared engine.

Importing the package registers their trainer keys (`templates.TEMPLATES`) with
`trainers.registry`.
"""
from . import templates  # noqa: F401  (registration)
