"""Reading a bundle: the one-pass verifier, the hostile-input rules, content checks, import and inspect."""
