"""The scripting interface (`strongroom COMMAND …`, CLI.md). Never imports Textual: with no
command, main.py hands over to tui/launch.py, the one edge from here into the app."""
