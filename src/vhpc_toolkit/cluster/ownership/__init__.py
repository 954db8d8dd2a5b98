"""What a cluster owns on vCenter and who runs it: its name and marks, switch marks, the run lock, the last run's record, --list, --adopt, the VMs no longer in the file."""
