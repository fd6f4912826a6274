"""The web server's routes, one module per audience; each takes every check from the shared
:class:`web.gate.Gate` and returns its routes."""
