"""Captions in the browser: a tablet viewer over WebSocket and an admin page for the dictionary."""
