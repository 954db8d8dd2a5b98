"""The cluster engine: a cluster file's desired state planned against one inventory read, then applied."""
