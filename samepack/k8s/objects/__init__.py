"""What a program becomes on a cluster: pure functions from a program to Kubernetes and Argo objects (names, pods, parameters, quantities, ordering)."""
