"""Compose: a ``Brief`` built from the analysed store for a request (brief, entity, timeline,
stories, digest, source lookup, search): candidates ranked, sections chosen, sources
numbered, ready for ``briefs.render``."""
