"""Thin click commands. Each wires stages together; logic lives in the stage packages."""
