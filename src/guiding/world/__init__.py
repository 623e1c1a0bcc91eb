"""The synthetic world of the embedded default: multi-step arithmetic whose every step is known.

Only the embedded implementations behind the stage seams (``*/embedded.py``) import it; the
mode-neutral modules never do (an import-linter contract checks that).
"""
