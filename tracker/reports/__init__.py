"""Outage reports for ICB reviewers (their ICB) and administrators (national)."""
