"""Tasks: the hard-task pool and held-out splits, their decomposition into subtasks, the filters."""
