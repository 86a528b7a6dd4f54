"""Developer tooling: the Docker-free local API runner, the embedded database, demo data, OpenAPI export."""
