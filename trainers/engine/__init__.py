"""The shared training engine: `fit(recipe, work_dir, callbacks)` runs any trainer's Recipe."""
from .config import EngineConfig
from .loop import fit, to_jsonable
from .recipe import Recipe
from . import optimizers, schedules

__all__ = ["EngineConfig", "Recipe", "fit", "optimizers", "schedules", "to_jsonable"]
