"""Images: a Dockerfile and .dockerignore rendered from the lock and the scan (pure), built with
the Docker engine or buildah, the result recorded in ``.samepack/env.json``."""
