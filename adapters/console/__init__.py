"""A terminal chat for trying every command locally."""
