"""Page files: their schema, validation with line numbers and the registry of a running app.

No Flask here: pages are plain dataclasses read from TOML."""
