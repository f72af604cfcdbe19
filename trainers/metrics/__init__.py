"""Evaluation metrics computed with numpy (classification, segmentation)."""
