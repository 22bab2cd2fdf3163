"""Use cases behind every front end (command line, slash commands, scheduler)."""
