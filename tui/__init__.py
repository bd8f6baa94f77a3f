"""The terminal app (Textual): screens, widgets, styles. The CLI lives in cli/, the agent in agent/."""
