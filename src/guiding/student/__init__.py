"""The student: its base model, stage-1 SFT on easy tasks, stage-2 SFT on each supervision set."""
