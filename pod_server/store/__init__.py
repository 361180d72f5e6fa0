"""Storage: the ResourceStore (Solid rules) over a Backend (bytes and metadata)."""
