"""FAI-CLS image classification (seeds 000/001). Importing registers the `fai_cls`
trainer and predictor with trainers.trainer_registry."""
from . import predictor, trainer  # noqa: F401  (registration)
