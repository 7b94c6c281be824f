"""What the founder reads: statistics, decisions, results, sources, costs, charts, formatting."""
