"""Renderers: thin pure functions from the result model to strings (the CLI prints them)."""
