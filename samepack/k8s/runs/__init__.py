"""Runs of a program on a cluster: submission, waiting or collecting later, and recording each step in the history."""
