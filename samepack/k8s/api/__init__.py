"""The edge that talks to a Kubernetes API server: the client, strict validation, preflight over nodes, object status and error translation."""
