"""The conversation at the counter: the resident's replies and buttons, the clerk's corrections
and quick phrases, the end of a conversation and the satisfaction survey (no HTTP here: the
routes are in ``web/routes``)."""
