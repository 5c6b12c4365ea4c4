"""Jinja2 templates of dataset cards (README.md with Hub YAML)."""
