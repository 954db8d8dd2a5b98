"""Switches: standard and distributed switches, port groups, and what uses a switch."""
