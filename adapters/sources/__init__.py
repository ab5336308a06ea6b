"""Signal sources, one module per service."""
