"""Changes to existing VMs: one ConfigSpec per VM (reconfigure), adapters, hardware upgrades, secure boot and affinities, and get_vm_config."""
