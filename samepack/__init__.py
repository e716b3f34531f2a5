"""samepack: make machine-learning work reproducible and portable."""

__version__ = "0.1.0"
