"""One cog per feature of the Discord bot (loaded by bot.app.COGS)."""
