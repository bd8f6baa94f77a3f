"""Every email Strongroom sends, in one place.

- `delivery`: composing a message and handing it over (SMTP when a URL is configured, else an
  `.eml` file in an outbox folder).
- `server_notices`: the account server's emails (new device, password hint, reset link, reset done).
- `kit_email`: the Authentication Kit email, built on the device (`strongroom kit --email`).

No email carries a key, a password or a record.
"""
