"""A VM's life through the per-VM commands: which VMs (targets), where a clone goes (placement), full and linked clones, power, destroy, customization, migration."""
