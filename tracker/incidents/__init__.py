"""Incidents, their cost lines and evidence, and the outage events they belong to."""
