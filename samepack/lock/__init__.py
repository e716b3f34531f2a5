"""Lockers: turn direct requirements into pinned, hashed lock files (uv, pip-tools, conda).

The package imports nothing itself: a run reads a lock record's index options
(``samepack.lock.indexes``) without loading the lockers.
"""
