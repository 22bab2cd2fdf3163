"""Ingest: files and pages read, cleaned and split into sentences, each document's outlet and
identity decided, and how a revision keeps its citations planned; then handed to the store.
Feeds arrive through ``briefs.feeds`` and are stored the same way."""
