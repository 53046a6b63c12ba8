"""Mindshape's newsletter pipeline: content chunks -> MJML -> HTML, plain text and .eml."""

__version__ = "0.1.0"
