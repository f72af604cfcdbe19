"""A model's evaluation report: a predictor of any runtime run over a dataset split, scored by the
field's libraries (scikit-learn, pycocotools), with the images it got most wrong drawn beside it.
The platform keeps one with every model (its evaluation split) and makes more on request."""
from .report import EXAMPLES_DIR, REPORT_DIR, REPORT_FILE, evaluate, evaluation_tasks, write_report

__all__ = ["EXAMPLES_DIR", "REPORT_DIR", "REPORT_FILE", "evaluate", "evaluation_tasks", "write_report"]
