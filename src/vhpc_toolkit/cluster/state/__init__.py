"""A cluster against its file: --status, the result of a run, and the one verdict both give."""
