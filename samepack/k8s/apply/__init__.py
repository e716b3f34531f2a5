"""Putting a program's objects on a cluster and taking them off: the plan (what changes), server-side apply, removal."""
