"""The headless runtime both front ends call (the app in tui/, the scripting CLI in cli/).

It sits between sync/ and the front ends: account creation and sign-in, background sync
runners, Kit files, backups and the one mapping of errors to messages and exit codes.
Never imports Textual.
"""
