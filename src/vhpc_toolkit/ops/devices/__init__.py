"""The device commands: passthru, vgpu, sriov, pvrdma (one module each)."""
