"""RSS/Atom feeds: fetch politely and safely, parse robustly, store entries as documents."""
