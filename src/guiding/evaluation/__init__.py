"""Evaluation: each model's predictions on the held-out benchmarks, graded by the answer module."""
