"""What goes into each part: the code, data, env, infra and metadata sources, and the secret rules."""
