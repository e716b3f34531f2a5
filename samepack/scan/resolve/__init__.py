"""From import names to distributions: stdlib and local-module detection, the mapping, the join."""
