"""Business rules in plain Python: nothing here imports Flask or reads a request."""
