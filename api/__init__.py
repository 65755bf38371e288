"""Chronicle's interfaces: the HTTP API and the `mes` command line."""
