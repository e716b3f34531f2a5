"""The on-disk format: the manifest, the segment layout, compressed frames and tar headers."""
