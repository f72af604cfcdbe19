"""The five Clarifai visual-classification templates as Recipes of the shared engine.

Importing the package registers each template's trainer family (`templates.TEMPLATES`) with
`trainers.families`.
"""
from . import templates  # noqa: F401  (registration)
