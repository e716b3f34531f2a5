"""Detectors beyond packages: the Python version, system libraries, hardware needs."""
