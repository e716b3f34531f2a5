"""Somewhere else to run: when this machine falls short of what a program needs, say what fits
(``hint``: a configured Kubernetes cluster, a devcontainer host) and write the devcontainer
definition that gets such a host (``devcontainer``: hostRequirements from the program's
resources, an image and a post-create command that recreate the locked environment)."""
