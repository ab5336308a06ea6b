"""The edges: chat platforms and signal sources."""
