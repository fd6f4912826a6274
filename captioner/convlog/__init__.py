"""The conversation log stage: masked finals written to one JSON Lines file per day."""
