"""`python -m bot` runs the command line."""

from bot.main import cli

cli()
