"""Supervision sets: at an exact outcome error rate, paraphrased copies, combinations; statistics."""
