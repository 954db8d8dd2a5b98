"""The file's switches and port groups: planned, created, their fixed ports and PVRDMA host preparation."""
