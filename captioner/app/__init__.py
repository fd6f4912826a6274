"""The application shell: configuration, the one session builder, the CLI, check and bench.

The only layer that imports the engine and every stage, and wires them together.
"""
