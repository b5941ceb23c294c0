"""The review panel: pool, conflicts, assignment, scoring, aggregation and ranking."""
