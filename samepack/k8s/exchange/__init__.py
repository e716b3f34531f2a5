"""How data sets and output files travel between this machine and a cluster's pods: the termination message, ConfigMaps and blobs in an exchange registry."""
