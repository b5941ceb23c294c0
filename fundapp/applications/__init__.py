"""Applications: drafts, budgets, partners, documents, submission and screening."""
