"""Shipped default configuration (``default.yaml``), read with importlib.resources."""
