"""How the new VMs are cloned: one CloneSpec per VM, the clone plan under vCenter's admission limits, copies of the template as extra sources, measured clone times."""
