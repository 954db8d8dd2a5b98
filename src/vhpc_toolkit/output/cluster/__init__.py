"""What the cluster command shows and writes: the plan, the cloning plan, results, status and lists, script steps and checks, and the exports for MPI, Ansible, Slurm and JSON."""
