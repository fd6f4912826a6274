"""The shared vocabulary of every layer: events, errors, stage protocols, paths, metrics.

Imports nothing else of the project.
"""
