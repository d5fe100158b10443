"""The audit trail: an append-only log of who opened which case, drill-down list, export or pack.

One JSON object per line: sequence number, time, who (`actor`), on whose behalf, action, scope, week
and target (a case id, KPI id or file name), never a resident's personal data; every text is capped.
Each entry carries `mac = HMAC-SHA256(key, previous mac + canonical JSON of the entry without mac)`,
so an entry edited, removed or moved shows up in `verify` even when the attacker recomputes every
hash: without the key they cannot make a valid mac. The app can only append and read: no function
here truncates, rewrites or deletes. docs/audit.md describes the format, the key and how to ship it.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import pwd
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from housing_assurance.settings import PROJECT_ROOT

if TYPE_CHECKING:  # kpis loads DuckDB; `audit verify` from cron should not wait for it
    from housing_assurance.scope import Scope

LOG_ENV = "HOUSING_ASSURANCE_AUDIT"
KEY_ENV = "HOUSING_ASSURANCE_AUDIT_KEY"
KEY_FILE_ENV = "HOUSING_ASSURANCE_AUDIT_KEY_FILE"
SECRET_NAME = "audit_key"  # in .streamlit/secrets.toml
GENESIS = "0" * 64  # the "previous mac" of the first entry
MAX_TEXT = 200  # characters of any logged text
MAX_ITEMS = 20  # items of any logged list
TAIL_CHUNK = 4096
TAIL_LIMIT = 64 * 1024  # an append reads at most this much of the file

log = logging.getLogger(__name__)


def audit_file() -> Path:
    return Path(os.environ.get(LOG_ENV, PROJECT_ROOT / "audit" / "audit.jsonl"))


def key_file(path: Path | None = None) -> Path:
    """Where the per-installation key lives when no key is configured (demonstrations only)."""
    return Path(os.environ.get(KEY_FILE_ENV) or f"{path or audit_file()}.key")


def audit_key(path: Path | None = None) -> str | None:
    """The chain's key: the environment, else the app's secret `audit_key`, else an existing key file.

    Streamlit's secrets are read only when the app has already imported Streamlit, so the command
    line and this module never import it. None when no key is configured anywhere.
    """
    if key := os.environ.get(KEY_ENV):
        return key
    if (st := sys.modules.get("streamlit")) is not None:
        try:
            key = st.secrets.get(SECRET_NAME)
        except Exception:  # no secrets file at all: Streamlit raises rather than returning None
            key = None
        if key:
            return str(key)
    try:
        return key_file(path).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _installation_key(path: Path) -> str:
    """The key file's key, made on first use (mode 0600, published whole by a hard link so no reader
    sees it half-written, and the first of two racing processes wins)."""
    if key := audit_key(path):
        return key
    target = key_file(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f"{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_hex(32) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(draft, target)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    log.warning("no audit key configured: using the key file %s, fit for demonstrations only; set %s",
                target, KEY_ENV)
    if not (key := target.read_text(encoding="utf-8").strip()):
        raise OSError(f"the audit key file {target} is empty")
    return key


def command_line_actor() -> str:
    """Who ran a command: the operating-system account of the process (from its uid, which the
    environment cannot fake), and under sudo the account that called sudo (SUDO_USER)."""
    uid = os.getuid()
    try:
        who = pwd.getpwuid(uid).pw_name
    except KeyError:  # a container user without a passwd entry
        who = f"uid {uid}"
    sudo = os.environ.get("SUDO_USER")
    return f"{who} (command line, sudo by {sudo})" if sudo and sudo != who else f"{who} (command line)"


def _cap(value: object) -> object:
    """Texts to MAX_TEXT characters and lists to MAX_ITEMS items, each marked with what was cut
    (mappings, only ever from a forged line, to MAX_ITEMS keys)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, list | tuple):
        items = [_cap(v) for v in value[:MAX_ITEMS]]
        return items + [f"…[+{len(value) - MAX_ITEMS} items]"] if len(value) > MAX_ITEMS else items
    if isinstance(value, dict):
        return {_cap(str(k)): _cap(v) for k, v in list(value.items())[:MAX_ITEMS]}
    text = str(value)
    return text[:MAX_TEXT] + f"…[+{len(text) - MAX_TEXT} chars]" if len(text) > MAX_TEXT else text


def _canonical(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _mac(key: str, prev: str, entry: dict) -> str:
    """HMAC-SHA256 over the previous mac and the canonical JSON of the entry (without its own mac)."""
    body = _canonical({k: v for k, v in entry.items() if k != "mac"})
    return hmac.new(key.encode(), (prev + body).encode(), hashlib.sha256).hexdigest()


def _parse(raw: bytes) -> dict | None:
    """The entry on this line, or None when it is not a well-formed keyed entry. Never raises."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested absurdly deep
        return None
    if (isinstance(entry, dict) and type(entry.get("seq")) is int and entry["seq"] >= 1
            and isinstance(entry.get("prev"), str) and isinstance(entry.get("mac"), str)):
        return entry
    return None


def _authentic(entry: dict, key: str) -> bool:
    return hmac.compare_digest(entry["mac"], _mac(key, entry["prev"], entry))


def _tail(fd: int, key: str) -> tuple[str, int, bool, bool]:
    """(previous mac, previous seq, damaged, needs a newline) from the end of the file alone.

    Reads back from the end in chunks, at most TAIL_LIMIT bytes, to the last well-formed entry.
    `damaged` when anything after that entry was skipped, its mac does not verify, or nothing
    well-formed was found (the chain then restarts from GENESIS and `verify` reports the break).
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS, 0, False, False
    ends_open = os.pread(fd, 1, size - 1) != b"\n"
    buf, pos, tried = b"", size, 0
    while pos > 0 and len(buf) < TAIL_LIMIT:
        step = min(TAIL_CHUNK, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        lines = buf.split(b"\n")[1 if pos > 0 else 0:]  # the first piece may be the end of a longer line
        if not ends_open:
            lines.pop()  # the empty piece after the final newline
        for skipped in range(tried, len(lines)):  # from the end, each line once
            if (entry := _parse(lines[-1 - skipped])) is not None:
                damaged = ends_open or skipped > 0 or not _authentic(entry, key)
                return entry["mac"], entry["seq"], damaged, ends_open
        tried = len(lines)
    return GENESIS, 0, True, ends_open


def record(actor: str, action: str, scope: Scope, target: str | None = None, as_of: str | None = None,
           on_behalf_of: str | None = None, *, path: Path | None = None, key: str | None = None) -> bool:
    """Append one entry under an exclusive lock (concurrent sessions and commands keep one chain).

    Reads only the end of the file, so an append costs the same on a log of any length. What is
    already in the file never stops the action being audited: after a malformed or cut-off last line
    the entry goes on a fresh line, chains from the last well-formed entry and says `after_break`.
    Returns False, with the reason logged, when the log or key cannot be written (a full disk, a
    read-only folder): the app then tells the user and carries on, the command line stops.
    """
    path = path or audit_file()
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "actor": _cap(actor),
        "on_behalf_of": _cap(on_behalf_of),
        "action": _cap(action),
        "scope": {"region": _cap(scope.region), "teams": _cap(scope.teams)},
        "target": _cap(target),
        "as_of": _cap(as_of),
    }
    try:
        key = key or _installation_key(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            prev, seq, damaged, needs_newline = _tail(fd, key)
            entry |= {"seq": seq + 1, "prev": prev} | ({"after_break": True} if damaged else {})
            entry["mac"] = _mac(key, prev, entry)
            line = ("\n" if needs_newline else "") + _canonical(entry) + "\n"
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
    except OSError as exc:
        log.error("audit entry not written to %s: %s", path, exc)
        return False
    return True


@dataclass(frozen=True)
class Problem:
    """The first bad entry: its line (from 1; 0 for the file as a whole), its seq when readable, what is
    wrong and in words."""

    line: int
    seq: int | None
    # edited | removed | reordered | malformed | unkeyed | truncated | after_break | wrong_key, or for
    # the whole file: missing | unreadable, and in read_entries no_key
    kind: str
    detail: str

    def __str__(self) -> str:
        seq = f" (seq {self.seq})" if self.seq is not None else ""
        return f"line {self.line}{seq}: {self.kind}: {self.detail}" if self.line else self.detail


@dataclass(frozen=True)
class VerifyResult:
    entries: int  # lines read
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __str__(self) -> str:
        return f"intact: {self.entries} entries" if self.problem is None else str(self.problem)


class _Chain:
    """Follows the chain line by line and keeps the first problem, refined once later lines are read
    (a missing seq that turns up further on was moved, not removed; no entry verifying at all means
    the wrong key rather than an edit)."""

    def __init__(self, key: str):
        self.key, self.prev, self.seq = key, GENESIS, 0
        self.problem: Problem | None = None
        self.any_authentic = False
        self.awaited: int | None = None  # the first missing seq, while it may still turn up

    def check(self, number: int, raw: bytes) -> dict | None:
        """This line's entry (None when unreadable), after noting what is wrong with it, if anything."""
        terminated = raw.endswith(b"\n")
        entry = _parse(raw)
        if entry is None:
            self._found(number, None, *self._unreadable(raw, terminated))
            return None
        seq, authentic = entry["seq"], _authentic(entry, self.key)
        self.any_authentic |= authentic
        if self.awaited == seq and authentic and self.problem is not None:
            self.problem = Problem(self.problem.line, self.problem.seq, "reordered",
                                   f"seq {self.problem.seq} comes before seq {seq}, which is on line {number}")
            self.awaited = None
        if not terminated:
            self._found(number, seq, "truncated", "the last line is cut off (no newline at its end)")
        elif not authentic:
            self._found(number, seq, "edited", "its mac does not verify: changed after it was written")
        elif seq > self.seq + 1:
            missing = f"seq {self.seq + 1}" if seq == self.seq + 2 else f"seqs {self.seq + 1}–{seq - 1}"
            if self._found(number, seq, "removed", f"{missing} missing before it"):
                self.awaited = self.seq + 1
        elif seq <= self.seq:
            self._found(number, seq, "reordered", f"seq {seq} comes after seq {self.seq} (moved or copied)")
        elif entry["prev"] != self.prev:
            self._found(number, seq, "edited", "does not follow the entry before it (replaced or spliced in)")
        elif entry.get("after_break"):
            self._found(number, seq, "after_break", "written after a damaged or cut-off line that is no longer here")
        if authentic:
            self.prev, self.seq = entry["mac"], seq
        return entry

    @staticmethod
    def _unreadable(raw: bytes, terminated: bool) -> tuple[str, str]:
        if not terminated:
            return "truncated", "the last line is cut off (no newline at its end)"
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, dict) and "mac" not in parsed:
            return "unkeyed", "an entry without a mac (written before the chain was keyed, or by hand)"
        return "malformed", "not a well-formed entry (not JSON, or without seq, prev and mac)"

    def _found(self, number: int, seq: int | None, kind: str, detail: str) -> bool:
        if self.problem is not None:
            return False
        self.problem = Problem(number, seq, kind, detail)
        return True

    def finish(self) -> Problem | None:
        if self.problem is not None and self.problem.kind == "edited" and not self.any_authentic:
            return Problem(self.problem.line, self.problem.seq, "wrong_key",
                           "no entry verifies with this key: written with a different key, or every entry rewritten")
        return self.problem


def _lines(path: Path):
    with path.open("rb") as f:
        yield from enumerate(f, start=1)


def verify(path: Path, key: str) -> VerifyResult:
    """Check every entry: well-formed, mac verifies, seq one more than the last, chained to it.

    Streams the file (a 400,000-line log is not held in memory). Entries cut off the end of the file
    leave no trace in the file itself: compare the count with the last run or the shipped copy.
    """
    chain, count = _Chain(key), 0
    try:
        for count, raw in _lines(path):
            chain.check(count, raw)
    except FileNotFoundError:
        return VerifyResult(0, Problem(0, None, "missing", "the file does not exist"))
    except OSError as exc:
        return VerifyResult(count, Problem(0, None, "unreadable", f"the file cannot be read ({exc.strerror})"))
    return VerifyResult(count, chain.finish())


def read_entries(path: Path | None = None, key: str | None = None) -> list[dict]:
    """Every line, checked as `verify` does: `chain_ok` False from the first problem on, which also
    carries `problem` in words. Never raises on what the file holds; without a key nothing is trusted."""
    path = path or audit_file()
    if not path.exists():
        return []
    key = key or audit_key(path)
    chain, entries = _Chain(key or ""), []
    for number, raw in _lines(path):
        entry = chain.check(number, raw)
        shown = ({"raw": raw.decode("utf-8", "replace").rstrip("\n")} if entry is None
                 else {k: v for k, v in entry.items() if k not in ("mac", "prev")})
        ok = chain.problem is None  # an entry that verifies was capped when written; any other may hold anything
        entries.append({**(shown if ok else _cap(shown)), "line": number, "chain_ok": ok})
    problem = chain.finish() if key else Problem(1, None, "no_key", f"no audit key configured ({KEY_ENV})")
    if problem is not None and entries:
        entries[problem.line - 1]["problem"] = str(problem)  # chain_ok is False from there on already
    return entries
