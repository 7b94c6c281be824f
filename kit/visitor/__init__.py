"""Pages for people who are not the founder: landing, signup, goals, embed, checkout, the
subscriber's signed links; the visit, forms, and the fast path."""
