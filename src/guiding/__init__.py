"""What makes good supervision for hard reasoning tasks: the study's logic, called by the workflow's scripts."""

__version__ = "0.1.0"
