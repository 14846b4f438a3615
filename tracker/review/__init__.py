"""ICB review of claims, and the practice's view of the decisions."""
