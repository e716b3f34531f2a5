"""Operating-system helpers shared by writing and reading: atomic output, forked children, GC pauses."""
