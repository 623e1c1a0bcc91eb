"""Teachers: k sampled solutions per task (hard tasks and subtasks), one file per teacher and kind."""
