"""Reading what a project declares: requirement files, pyproject, setup files, conda environments."""
