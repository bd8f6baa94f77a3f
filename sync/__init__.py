"""Moving encrypted envelopes between devices: folder file, Wi-Fi peers, the account server."""
