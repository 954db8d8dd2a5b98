"""Per-VM operations: plan against one inventory snapshot, then apply with bounded concurrency."""
