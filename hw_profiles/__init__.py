"""Hardware profiles (TOML, with a source for every number)."""
