"""Analysis: the facts derived from stored documents (topics, mentions, speakers, stance,
dates, salience, new names, signatures and stories), recomputed when the analysis code or
the domain data changes, and written back through the store."""
