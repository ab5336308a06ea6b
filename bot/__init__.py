"""Composition root: settings, CLI and process wiring."""
