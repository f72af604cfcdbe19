"""FAI-CLS image classification. Importing registers the `fai_cls` trainer family with
trainers.families (family.py)."""
from . import family  # noqa: F401  (registration)
