"""Where new VMs go: the planner (hosts and devices from the one read), what each host can still give, shortage messages, view --capacity, clone --gpu/--vgpu, DRS anti-affinity rules."""
