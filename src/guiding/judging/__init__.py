"""Judging: each sample's final answer against the reference, each step by a step judge; pairs."""
