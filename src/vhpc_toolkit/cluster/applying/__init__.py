"""Changes made and read back: the run itself (apply.py), its read-back, destroy."""
