"""Jinja2 templates of every family's prompts and verbalizations: ``<family>/[<lang>/]<purpose>.j2``."""
