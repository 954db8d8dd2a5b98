"""ESXi hosts: what a host offers (devices, GPUs, vGPU room), its settings (power policy, passthrough, SR-IOV), PVRDMA preparation."""
