"""`strongroom ssh-agent`: the OpenSSH agent protocol on a private socket, for the keys of the
unlocked vault (`python3 -m agent.sshagent --home H --socket P`, started by the CLI).

It holds no key: each request asks the unlock agent of the home (`ssh_list`, `ssh_sign` on its
socket), so while the vault is locked or no agent runs it lists no identities and signs nothing,
and unlocking again brings the keys back without restarting it. The socket is 0600 in a folder
that must be 0700 and ours; only our own uid may connect (SO_PEERCRED). Protocol:
draft-miller-ssh-agent (request identities, sign; anything else is answered with failure).
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import struct
import sys
import threading
from typing import Any

from .wire import WireError, call

REQUEST_IDENTITIES = 11
IDENTITIES_ANSWER = 12
SIGN_REQUEST = 13
SIGN_RESPONSE = 14
FAILURE = 5
MAX_MESSAGE = 256 * 1024
ASK_TIMEOUT = 10.0
#: A signature by a key that asks before each use waits for the person at the app (the unlock
#: agent gives up first, after its ASK_WAIT of 60 s).
SIGN_TIMEOUT = 90.0


class ProtocolError(Exception):
    """A malformed or oversized agent message: the connection is closed."""


def _string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _take_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(buf):
        raise ProtocolError("truncated string")
    n = int.from_bytes(buf[pos : pos + 4], "big")
    if pos + 4 + n > len(buf):
        raise ProtocolError("truncated string")
    return buf[pos + 4 : pos + 4 + n], pos + 4 + n


def _ask(home: str, req: dict[str, Any], timeout: float = ASK_TIMEOUT) -> dict[str, Any] | None:
    """The unlock agent's answer; None when it is not running, locked, failing or refusing."""
    try:
        answer = call(home, req, timeout=timeout)
    except (OSError, WireError):
        return None
    if answer is None or answer.get("locked") or not answer.get("ok"):
        return None
    return answer


def client_of(conn: socket.socket) -> str:
    """The program asking (its command line, from the peer's pid), for the app's question."""
    try:
        pid = _peer_pid(conn)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read(4096).rstrip(b"\0").split(b"\0")
    except (OSError, ValueError):
        return ""
    words = [os.path.basename(args[0].decode(errors="replace"))]
    words += [a.decode(errors="replace") for a in args[1:]]
    return " ".join(words)[:200]


def answer(home: str, message: bytes, client: str = "") -> bytes:
    """The reply (type byte + body) to one request message; `client` names the program asking."""
    if not message:
        raise ProtocolError("empty message")
    kind, body = message[0], message[1:]
    if kind == REQUEST_IDENTITIES:
        got = _ask(home, {"op": "ssh_list"})
        keys = got.get("keys", []) if got else []
        out = bytes([IDENTITIES_ANSWER]) + len(keys).to_bytes(4, "big")
        for key in keys:
            out += _string(base64.b64decode(key["blob"])) + _string(str(key["comment"]).encode())
        return out
    if kind == SIGN_REQUEST:
        blob, pos = _take_string(body, 0)
        data, pos = _take_string(body, pos)
        flags = int.from_bytes(body[pos : pos + 4], "big") if pos + 4 <= len(body) else 0
        got = _ask(
            home,
            {
                "op": "ssh_sign",
                "blob": base64.b64encode(blob).decode(),
                "data": base64.b64encode(data).decode(),
                "flags": flags,
                "client": client,
            },
            timeout=SIGN_TIMEOUT,
        )
        if got is None:
            return bytes([FAILURE])
        return bytes([SIGN_RESPONSE]) + _string(base64.b64decode(got["sig"]))
    return bytes([FAILURE])


def _exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _serve_connection(home: str, conn: socket.socket) -> None:
    with conn:
        client = client_of(conn)
        try:
            while True:
                head = _exact(conn, 4)
                if head is None:
                    return
                n = int.from_bytes(head, "big")
                if n > MAX_MESSAGE:
                    return
                message = _exact(conn, n)
                if message is None:
                    return
                reply = answer(home, message, client)
                conn.sendall(_string(reply))
        except (OSError, ProtocolError, KeyError, ValueError):
            return


def _peer_cred(conn: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the connected process."""
    raw = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return int(pid), int(uid), int(gid)


def _peer_uid(conn: socket.socket) -> int:
    return _peer_cred(conn)[1]


def _peer_pid(conn: socket.socket) -> int:
    return _peer_cred(conn)[0]


def private_folder(path: str) -> None:
    """Make (0700) or check the socket's folder: ours, and no one else may enter it."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    st = os.stat(folder)
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise WireError(f"{folder} must be a folder of yours that only you can open (chmod 700)")


def listen(path: str) -> socket.socket:
    private_folder(path)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
        raise WireError(f"an SSH agent already listens on {path}")
    except (FileNotFoundError, ConnectionRefusedError):
        if os.path.exists(path):
            os.unlink(path)
    finally:
        probe.close()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        server.bind(path)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    server.listen(16)
    return server


def serve(home: str, path: str, server: socket.socket) -> int:
    """Answer until the socket file is removed or replaced, or the home is gone."""
    server.settimeout(1.0)
    ino = os.stat(path).st_ino
    try:
        while True:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                try:
                    if os.stat(path).st_ino != ino or not os.path.isdir(home):
                        return 0
                except FileNotFoundError:
                    return 0
                continue
            if _peer_uid(conn) != os.getuid():
                conn.close()
                continue
            conn.settimeout(30.0)
            threading.Thread(target=_serve_connection, args=(home, conn), daemon=True).start()
    finally:
        server.close()
        try:
            if os.stat(path).st_ino == ino:
                os.unlink(path)
        except FileNotFoundError:
            pass


def main(argv: list[str] | None = None) -> int:
    from runtime.process_guard import guard_process

    guard_process()
    parser = argparse.ArgumentParser(prog="strongroom-ssh-agent")
    parser.add_argument("--home", required=True)
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    try:
        server = listen(args.socket)
    except (OSError, WireError) as exc:
        print(f"strongroom: {exc}", file=sys.stderr)
        return 2
    os.write(1, b"ready\n")  # the CLI waits for this line
    os.close(1)
    return serve(os.path.realpath(args.home), args.socket, server)


if __name__ == "__main__":
    sys.exit(main())
