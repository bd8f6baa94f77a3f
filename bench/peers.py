"""Issue 8: Strongroom side by side with keepassxc-cli, pykeepass and pass, whole-process runs.

`python3 -m bench peers` (1,000 / 10,000 / 100,000 records) or `python3 -m bench peers --quick`
(1,000 records, 2 runs; what CI runs so this never rots). Every tool gets the same records (title,
username, password, URL, ~100-character notes) and, where it has one, the same Argon2id cost
(64 MiB, t = 3, p = 4; pass uses gpg's own key protection instead). Tools are measured alternately
in one run; each row gives the median and the spread (min–max) of wall time and the process's peak
memory, and the ratio Strongroom / peer. Peers missing from the machine are skipped.

Strongroom alone also gets the rows no peer has (bench/ours.py): the app's first list paint after
the KDF and a search keystroke (headless, the real app), `import`, a data.mssb write after one
change and a merge of a copy differing in 1%.

`--install venv` (the default of a full run) times Strongroom and pykeepass from a fresh venv
holding a plain `pip install .`, as a user runs them; `--install current` (the default of
`--quick`) times this interpreter's install.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import refuse_insecure_test_kdf
from bench.core import PASSWORD, _cli

NOTES = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et"
)


#: Which tools to run (env STRONGROOM_BENCH_TOOLS, comma-separated); default all that are installed.
TOOLS = frozenset(
    os.environ.get("STRONGROOM_BENCH_TOOLS", "strongroom,keepassxc-cli,pykeepass,pass").split(",")
)


def title(i: int) -> str:
    return f"Entry {i:06d}"


def records(n: int) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            title(i),
            f"user{i}@example.com",
            f"pw-{i:06d}-Xq9!",
            f"https://site{i}.example.com/login",
            NOTES,
        )
        for i in range(n)
    ]


@dataclass(frozen=True)
class Install:
    """Where the Python tools (Strongroom, pykeepass) run from."""

    strongroom: list[str]
    python: str
    label: str


def current_install() -> Install:
    """This interpreter and its console script (the developer's, often editable, install)."""
    return Install(_cli(), sys.executable, f"this interpreter ({sys.executable})")


def plain_install(where: Path) -> Install:
    """A fresh venv holding `pip install .` (what the README installs) and pykeepass.

    Times what a user runs: not an editable install's import hook, nor whatever .pth hooks the
    developer's site-packages holds (on the machine of the committed table, one imports certifi
    at every interpreter start: ~20 ms of each whole-process run)."""
    repo = Path(__file__).resolve().parents[1]
    print(f"[peers] installing Strongroom (pip install .) and pykeepass into {where} …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    extra = ["pykeepass"] if "pykeepass" in TOOLS else []
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(repo), *extra],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"[peers] pip install into the venv failed:\n{done.stderr[-2000:]}\n"
            "(use --install current to time this interpreter's install instead)"
        )
    return Install(
        [str(where / "bin" / "strongroom")],
        str(python),
        "a fresh venv: `pip install .` and pykeepass",
    )


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0


LAUNCHER = """
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvpe(sys.argv[2], sys.argv[2:], os.environ)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - t0
os.write(int(sys.argv[1]), f"{elapsed} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}".encode())
"""


def run_once(argv: list[str], stdin: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one whole process.

    A small `python -S` launcher forks and execs the tool and reports its wall time and
    ru_maxrss: a child forked from this (large) benchmark process would inherit our peak RSS.
    """
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(write_fd), *argv],
            input=stdin.encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            pass_fds=(write_fd,),
        )
    finally:
        os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        report = f.read().decode().split()
    if proc.returncode != 0 or len(report) != 3 or report[2] != "0":
        raise RuntimeError(
            f"{argv[:4]} failed: {proc.stderr.decode(errors='replace').strip()[:300]}"
        )
    return float(report[0]), int(report[1]) / 1024


# -- building equivalent vaults -----------------------------------------------------------------
def build_strongroom(home: Path, n: int) -> None:
    from vault import kdf
    from vault.merge import next_version
    from vault.records import new_record
    from vault.vault import Vault

    vault = Vault.create(home, "bench@example.com", PASSWORD, params=kdf.PRODUCTION)
    envs = []
    for t, user, pw, url, notes in records(n):
        rec = new_record("login", t, {"username": user, "password": pw, "url": url}, notes=notes)
        vv, hlc = next_version([], vault.device)
        envs.append(vault.cipher.seal(rec, rec.id, vv, hlc, vault.device))
    vault.apply(envs)
    vault.summaries()
    vault.close()


def build_kdbx(path: Path, n: int) -> bool:
    """A KDBX4 file with the same records and Argon2id cost, for keepassxc-cli and pykeepass.

    pykeepass's add_entry searches the whole tree on every call (2,000 entries took 42 s), so one
    entry is made with it and then cloned into the XML tree with a fresh UUID per record: linear.
    """
    try:
        from pykeepass import create_database
    except ImportError:
        return False
    import base64
    import copy
    import uuid

    kp = create_database(str(path), password=PASSWORD)
    params = kp.kdbx.header.value.dynamic_header.kdf_parameters.data.dict
    params["$UUID"].value = bytes.fromhex("9e298b1956db4773b23dfc3ec6f0a1e6")  # Argon2id
    params["M"].value, params["I"].value, params["P"].value = 64 * 1024 * 1024, 3, 4
    template = kp.add_entry(kp.root_group, "template", "u", "p", url="u", notes="n")._element
    group = kp.root_group._element
    group.remove(template)
    for t, user, pw, url, notes in records(n):
        entry = copy.deepcopy(template)
        entry.find("UUID").text = base64.b64encode(uuid.uuid4().bytes).decode()
        values = {"Title": t, "UserName": user, "Password": pw, "URL": url, "Notes": notes}
        for string in entry.findall("String"):
            string.find("Value").text = values[string.find("Key").text]
        group.append(entry)
    kp.save()
    return True


def build_pass(store: Path, gnupg: Path, n: int) -> dict[str, str] | None:
    if not (shutil.which("pass") and shutil.which("gpg")):
        return None
    gnupg.mkdir(mode=0o700)
    env = dict(os.environ, GNUPGHOME=str(gnupg), PASSWORD_STORE_DIR=str(store))
    spec = (
        "%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\n"
        "Name-Real: Bench\nName-Email: bench@example.com\nExpire-Date: 0\n%commit\n"
    )
    subprocess.run(
        ["gpg", "--batch", "--gen-key"],
        input=spec.encode(),
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(["pass", "init", "bench@example.com"], env=env, check=True, capture_output=True)
    for t, user, pw, url, notes in records(n):
        subprocess.run(
            ["pass", "insert", "-m", "-f", t.replace(" ", "")],
            env=env,
            check=True,
            capture_output=True,
            input=f"{pw}\nusername: {user}\nurl: {url}\n{notes}\n".encode(),
        )
    return env


# -- the table ----------------------------------------------------------------------------------
def measure(sizes: list[int], repeats: int, install: Install) -> list[tuple[str, int, str, Sample]]:
    rows: list[tuple[str, int, str, Sample]] = []
    for n in sizes:
        rows += measure_size(n, repeats, install)
    return rows


def measure_size(n: int, repeats: int, install: Install) -> list[tuple[str, int, str, Sample]]:
    rows: list[tuple[str, int, str, Sample]] = []
    py = install.python
    sr = install.strongroom
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        print(f"[peers] building {n:,} records for each tool …", flush=True)
        home = base / "strongroom"
        build_strongroom(home, n)
        sr_env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
        sr_env |= {"STRONGROOM_HOME": str(home), "STRONGROOM_PASSWORD": PASSWORD}
        kdbx = base / "db.kdbx"
        has_kdbx = bool(TOOLS & {"keepassxc-cli", "pykeepass"}) and build_kdbx(kdbx, n)
        has_kxc = has_kdbx and shutil.which("keepassxc-cli") is not None
        pass_env = (
            build_pass(base / "pass", base / "gnupg", n) if n <= 1000 and "pass" in TOOLS else None
        )
        target = title(n // 2)
        query = title(n // 2)[:-1]  # ~10 matches
        counter = iter(range(10**9))
        kx = ["keepassxc-cli"]

        def pk(code: str) -> list[str]:
            return [
                py,
                "-c",
                "from pykeepass import PyKeePass as P\n"
                f"kp = P({str(kdbx)!r}, password={PASSWORD!r})\n" + code,
            ]

        ops: dict[str, dict[str, tuple[Callable[[], list[str]], str, dict[str, str]]]] = {
            "unlock only": {
                "strongroom": (lambda: [*sr, "kit", "--code"], "", sr_env),
                "keepassxc-cli": (lambda: [*kx, "db-info", "-q", str(kdbx)], PASSWORD + "\n", {}),
                "pykeepass": (lambda: pk("pass"), "", {}),
            },
            "show one entry": {
                "strongroom": (lambda: [*sr, "get", target, "--field", "password"], "", sr_env),
                "keepassxc-cli": (
                    lambda: [*kx, "show", "-q", "-s", str(kdbx), target],
                    PASSWORD + "\n",
                    {},
                ),
                "pykeepass": (
                    lambda: pk(f"print(kp.find_entries(title={target!r}, first=True).password)"),
                    "",
                    {},
                ),
                "pass": (lambda: ["pass", "show", target.replace(" ", "")], "", pass_env or {}),
            },
            "search": {
                "strongroom": (lambda: [*sr, "ls", query], "", sr_env),
                "keepassxc-cli": (
                    lambda: [*kx, "search", "-q", str(kdbx), query],
                    PASSWORD + "\n",
                    {},
                ),
                "pykeepass": (
                    lambda: pk(f"print(len(kp.find_entries(title={query!r} + '.*', regex=True)))"),
                    "",
                    {},
                ),
                "pass": (lambda: ["pass", "grep", "-c", query[-5:]], "", pass_env or {}),
            },
            "add one entry": {
                "strongroom": (
                    lambda: [
                        *sr,
                        "add",
                        "login",
                        "--title",
                        f"New {next(counter)}",
                        "--field",
                        "username=new",
                        "--field",
                        "password=new-pw-1",
                    ],
                    "",
                    sr_env,
                ),
                "keepassxc-cli": (
                    lambda: [
                        *kx,
                        "add",
                        "-q",
                        "-u",
                        "new",
                        "-p",
                        str(kdbx),
                        f"New {next(counter)}",
                    ],
                    f"{PASSWORD}\nnew-pw-1\n",
                    {},
                ),
                "pykeepass": (
                    lambda: pk(
                        f"kp.add_entry(kp.root_group, 'New {next(counter)}', 'new', 'new-pw-1')\n"
                        "kp.save()"
                    ),
                    "",
                    {},
                ),
                "pass": (
                    lambda: ["pass", "insert", "-m", "-f", f"New{next(counter)}"],
                    "new-pw-1\n",
                    pass_env or {},
                ),
            },
            "export": {
                "strongroom": (
                    lambda: [
                        *sr,
                        "export",
                        "--format",
                        "csv",
                        "--yes",
                        "--force",
                        str(base / "out.csv"),
                    ],
                    "",
                    sr_env,
                ),
                "keepassxc-cli": (
                    lambda: [*kx, "export", "-q", "-f", "csv", str(kdbx)],
                    PASSWORD + "\n",
                    {},
                ),
            },
        }
        for op, tools in ops.items():
            available = {
                t: v
                for t, v in tools.items()
                if (t != "keepassxc-cli" or has_kxc)
                and (t != "pykeepass" or has_kdbx)
                and (t != "pass" or pass_env)
                and t in TOOLS
            }
            samples = {t: Sample() for t in available}
            for _ in range(repeats):
                for tool, (argv, stdin, env) in available.items():
                    try:
                        secs, mb = run_once(
                            argv(), stdin, {**os.environ, **env} if tool != "strongroom" else env
                        )
                    except RuntimeError as exc:
                        print(f"[peers] {op} / {tool}: {exc}", flush=True)
                        samples.pop(tool, None)
                        available = {k: v for k, v in available.items() if k != tool}
                        break
                    samples[tool].seconds.append(secs)
                    samples[tool].peak_mb = max(samples[tool].peak_mb, mb)
            for tool, sample in samples.items():
                if sample.seconds:
                    rows.append((op, n, tool, sample))
        # Strongroom only: through the unlock agent.
        subprocess.run(
            [*sr, "unlock", "--timeout", "10m"], env=sr_env, check=True, capture_output=True
        )
        agent_env = {k: v for k, v in sr_env.items() if k != "STRONGROOM_PASSWORD"}
        sample = Sample()
        for _ in range(max(repeats, 5)):
            secs, mb = run_once([*sr, "get", target, "--field", "password"], "", agent_env)
            sample.seconds.append(secs)
            sample.peak_mb = max(sample.peak_mb, mb)
        subprocess.run([*sr, "lock"], env=agent_env, capture_output=True)
        rows.append(("show one entry (agent)", n, "strongroom", sample))
        if "strongroom" in TOOLS:
            rows += strongroom_only_rows(n, home, base, install, repeats, sr_env)
    return rows


def strongroom_only_rows(
    n: int, home: Path, base: Path, install: Install, repeats: int, sr_env: dict[str, str]
) -> list[tuple[str, int, str, Sample]]:
    """The app, sync, merge and import rows (bench/ours.py), after the shared ones."""
    from bench import ours

    print(f"[peers] app, sync, merge and import at {n:,} records …", flush=True)
    export_file = base / "all.json"
    subprocess.run(
        [*install.strongroom, "export", "--format", "json", "--yes", "--force", str(export_file)],
        env=sr_env,
        check=True,
        capture_output=True,
    )
    work = base / "ours"
    work.mkdir()
    return [
        *ours.app_rows(n, home, install, repeats, work),
        *ours.import_rows(n, export_file, work, install, repeats, run_once, sr_env),
        *ours.sync_rows(n, home, work, repeats),
    ]


def table_rows(rows: list[tuple[str, int, str, Sample]]) -> list[tuple[str, ...]]:
    """One row per (operation, size, tool): median, spread, peak MB and ours/peer measured in the same run."""
    ours = {(op, n): s for op, n, tool, s in rows if tool == "strongroom"}
    out: list[tuple[str, ...]] = []
    for op, n, tool, s in rows:
        med = statistics.median(s.seconds)
        ratio = ""
        if tool != "strongroom" and (op, n) in ours:
            ratio = f"{statistics.median(ours[(op, n)].seconds) / med:.2f}×"
        spread = f"{min(s.seconds) * 1000:.0f}–{max(s.seconds) * 1000:.0f} ms"
        peak = (
            f"{s.peak_mb:.0f}" if s.peak_mb else "—"
        )  # timed inside the bench process: no peak of its own
        out.append((op, f"{n:,}", tool, f"{med * 1000:.0f} ms", spread, peak, ratio))
    return out


def print_table(rows: list[tuple[str, int, str, Sample]]) -> None:
    print(
        f"{'operation':<24}{'records':>9}  {'tool':<14}{'median':>10}{'spread (min–max)':>22}{'peak MB':>9}"
        f"{'ours/peer':>11}"
    )
    for op, n, tool, med, spread, mb, ratio in table_rows(rows):
        print(f"{op:<24}{n:>9}  {tool:<14}{med:>11}{spread:>22}{mb:>9}{ratio:>11}", flush=True)


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return out.splitlines()[0] if out else "not installed"


def _pass_version() -> str:
    import re

    if not shutil.which("pass"):
        return "not installed"
    out = subprocess.run(["pass", "version"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"v(\d+(?:\.\d+)+)", out)
    return found.group(1) if found else "unknown version"


def environment(load_before: tuple[float, float, float], install: Install) -> list[str]:
    """What a reader needs to reproduce the table: machine, versions, parameters, load."""
    import platform
    import time

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    pkp = _first_line(
        [install.python, "-c", "import importlib.metadata as m; print(m.version('pykeepass'))"]
    )
    rev = _first_line(
        ["git", "-C", str(Path(__file__).resolve().parents[1]), "rev-parse", "--short", "HEAD"]
    )
    load_after = os.getloadavg()
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Strongroom at commit {rev}",
        f"- Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Load average (1 min) before / after the run: {load_before[0]:.1f} / {load_after[0]:.1f}",
        f"- Python {platform.python_version()}; keepassxc-cli {_first_line(['keepassxc-cli', '--version'])}; "
        f"pykeepass {pkp}; pass {_pass_version()}; "
        f"{_first_line(['gpg', '--version'])}",
        "- Argon2id for Strongroom and the KDBX4 file: 64 MiB, t = 3, p = 4 (pass: gpg's own key protection, "
        "warm gpg-agent, 1,000 entries only because `pass grep` decrypts every file)",
        "- Whole-process wall time (fork + exec to exit) and peak RSS of that process; tools alternate run by run",
        f"- Strongroom and pykeepass run from {install.label}",
    ]


def write_markdown(
    path: Path, rows: list[tuple[str, int, str, Sample]], env_lines: list[str], repeats: int
) -> None:
    head = [
        "# Benchmarks: Strongroom beside keepassxc-cli, pykeepass and pass",
        "",
        "Written by `python3 -m bench peers --markdown docs/benchmarks.md` (do not edit by hand). "
        f"Each figure is the median of {repeats} whole-process runs; ours/peer < 1 means Strongroom is faster.",
        "",
        *env_lines,
        "",
        "| operation | records | tool | median | spread (min–max) | peak MB | ours/peer |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    body = ["| " + " | ".join(r) + " |" for r in table_rows(rows)]
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    kept = old[old.index("\n<!-- bench ") :] if "\n<!-- bench " in old else ""  # other suites'
    path.write_text("\n".join(head + body) + "\n" + kept, encoding="utf-8")


def run(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    refuse_insecure_test_kdf()
    sizes = [int(a) for a in args if a.isdigit()] or ([1000] if quick else [1000, 10_000, 100_000])
    markdown = Path(args[args.index("--markdown") + 1]) if "--markdown" in args[:-1] else None
    from bench.common import ensure_bytecode

    ensure_bytecode()
    how = (
        args[args.index("--install") + 1]
        if "--install" in args[:-1]
        else ("current" if quick else "venv")
    )
    if how not in ("current", "venv"):
        raise SystemExit("--install is current (this interpreter) or venv (a fresh plain install)")
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        install = current_install() if how == "current" else plain_install(Path(tmp) / "venv")
        load_before = os.getloadavg()
        repeats = 2 if quick else 5
        rows = measure(sizes, repeats, install)
        print_table(rows)
        if markdown is not None:
            write_markdown(markdown, rows, environment(load_before, install), repeats)
            print(f"[peers] wrote {markdown}")
