"""Two devices in two network namespaces joined by a veth pair: real multicast between separate
network stacks, off the real network. Runs only as root with `ip`; skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from wifihelp import PW, add_notes, device_like, titles

from vault.vault import Vault

ROOT = Path(__file__).resolve().parents[2]

PEER = textwrap.dedent("""
    import asyncio, json, sys
    from pathlib import Path
    from sync.wifi import WifiPeer
    from vault.vault import Vault

    async def main() -> None:
        home, password, address, role = sys.argv[1:5]
        v = Vault.open(Path(home))
        v.unlock(password)
        async with WifiPeer(v, [address]) as peer:
            if role == "serve":
                print(json.dumps({"port": peer.port}), flush=True)
                await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            else:
                r = await peer.sync_with_all(timeout=15.0, expect=1)
                print(json.dumps({"received": r.received, "sent": r.sent,
                                  "errors": [str(e) for e in r.errors]}), flush=True)
        v.close()

    asyncio.run(main())
""")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str]]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create network namespaces")
    tag = f"{os.getpid() % 100000}"
    ns = (f"srw1-{tag}", f"srw2-{tag}")
    veth = (f"srw1v{tag}", f"srw2v{tag}")
    try:
        for n in ns:
            _ip("netns", "add", n)
        _ip("link", "add", veth[0], "type", "veth", "peer", "name", veth[1])
        for i in (0, 1):
            _ip("link", "set", veth[i], "netns", ns[i])
            _ip("-n", ns[i], "addr", "add", f"10.77.0.{i + 1}/24", "dev", veth[i])
            _ip("-n", ns[i], "link", "set", veth[i], "up")
            _ip("-n", ns[i], "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError) as exc:
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        pytest.skip(f"cannot create network namespaces here: {exc}")
    try:
        yield ns
    finally:
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)


def _run(ns: str, home: Path, address: str, role: str) -> subprocess.Popen[str]:
    env = dict(os.environ, STRONGROOM_INSECURE_TEST_KDF="1")
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-c", PEER, str(home), PW, address, role],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_two_namespaces_discover_and_sync_with_real_mdns(
    namespaces: tuple[str, str], account: Vault, tmp_path: Path
) -> None:
    a = account
    b = device_like(a, tmp_path / "b")
    add_notes(a, "NS A", 2)
    add_notes(b, "NS B", 1)
    a.close()
    b.close()
    server = _run(namespaces[0], tmp_path / "a", "10.77.0.1", "serve")
    procs = [server]
    try:
        assert server.stdout is not None and server.stdin is not None
        assert json.loads(server.stdout.readline())["port"]
        client = _run(namespaces[1], tmp_path / "b", "10.77.0.2", "sync")
        procs.append(client)
        out, _ = client.communicate(timeout=60)
        result = json.loads(out)
        assert result == {"received": 2, "sent": 1, "errors": []}
        server.stdin.close()
        assert server.wait(timeout=20) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for home in ("a", "b"):
        v = Vault.open(tmp_path / home)
        v.unlock(PW)
        assert titles(v) == ["NS A 0000", "NS A 0001", "NS B 0000"]
        v.close()
