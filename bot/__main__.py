"""``python -m bot`` does what the ``briefbot`` command does."""

from bot.cli import main

raise SystemExit(main())
