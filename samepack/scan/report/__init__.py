"""Rendering a scan: JSON and requirement lines (no rich), and the terminal table."""
