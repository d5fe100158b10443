"""The audit trail you can prove: a keyed chain, appends that read only the end of the file, a damaged
line that never stops the action being audited, who ran a command and for whom, capped values, and
`audit verify` naming the first edited, removed, moved, cut-off or malformed entry."""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import pwd
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import command
from extract_factory import write_extract

from housing_assurance import audit
from housing_assurance.scope import WHOLE_LANDLORD, Scope

MANAGER = "north.manager@example.org"


@pytest.fixture
def log() -> Path:
    return Path(os.environ["HOUSING_ASSURANCE_AUDIT"])


@pytest.fixture
def key() -> str:
    return os.environ["HOUSING_ASSURANCE_AUDIT_KEY"]


def write(log: Path, n: int, first: int = 1) -> None:
    for i in range(first, first + n):
        audit.record("a@example.org", "open_case", Scope(teams=("T1",)), f"D{i}", "2026-11-22", path=log)


def lines(log: Path) -> list[str]:
    return log.read_text(errors="replace").splitlines(keepends=True)


def entry(log: Path, number: int) -> dict:
    return json.loads(lines(log)[number - 1])


def last_lines(log: Path) -> list[bytes]:
    """The end of a log too big to read whole in a test."""
    with log.open("rb") as f:
        f.seek(-4096, os.SEEK_END)
        return f.read().splitlines()


def check(log: Path, key: str) -> tuple[int, int | None, str] | None:
    problem = audit.verify(log, key).problem
    return None if problem is None else (problem.line, problem.seq, problem.kind)


def test_appends_verify_and_read_back(log, key):
    assert audit.record("a@example.org", "open_case", Scope(teams=("T1",)), "D1", "2026-11-22", path=log) is True
    audit.record("b@example.org", "export_pack", WHOLE_LANDLORD, "pack.pdf", "2026-11-22", path=log)
    first, second = entry(log, 1), entry(log, 2)
    assert (first["seq"], first["prev"], second["seq"], second["prev"]) == (1, audit.GENESIS, 2, first["mac"])
    assert first["mac"] == hmac.new(key.encode(), (audit.GENESIS + audit._canonical(
        {k: v for k, v in first.items() if k != "mac"})).encode(), hashlib.sha256).hexdigest()
    entries = audit.read_entries(log)
    assert [e["action"] for e in entries] == ["open_case", "export_pack"]
    assert [e["actor"] for e in entries] == ["a@example.org", "b@example.org"]
    assert all(e["chain_ok"] for e in entries) and "mac" not in entries[0]
    assert str(audit.verify(log, key)) == "intact: 2 entries"
    first["actor"] = "someone.else@example.org"  # rewritten by hand, nothing recomputed
    log.write_text(json.dumps(first) + "\n" + lines(log)[1])
    assert [e["chain_ok"] for e in audit.read_entries(log)] == [False, False]


def _sha256_chain(prev: str, body: dict) -> str:  # the old, unkeyed chain
    return hashlib.sha256((prev + audit._canonical(body)).encode()).hexdigest()


def _guessed_key_chain(prev: str, body: dict) -> str:
    return hmac.new(b"guess", (prev + audit._canonical(body)).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("forge", [_sha256_chain, _guessed_key_chain])
def test_an_edit_with_every_mac_recomputed_without_the_key_is_caught(log, key, forge):
    write(log, 3)
    forged, prev = [lines(log)[0]], entry(log, 1)["mac"]
    for number in (2, 3):
        e = entry(log, number)
        if number == 2:
            e["actor"] = "someone.else@example.org"
        e.pop("mac")
        e["prev"] = prev
        e["mac"] = prev = forge(prev, e)
        forged.append(json.dumps(e) + "\n")
    log.write_text("".join(forged))
    assert check(log, key) == (2, 2, "edited")
    assert [e["chain_ok"] for e in audit.read_entries(log)] == [True, False, False]


def test_the_old_unkeyed_log_reads_as_unkeyed(log, key):
    body = {"at": "2026-11-22T10:00:00+00:00", "user": "a@example.org", "action": "open_case"}
    log.write_text(json.dumps({**body, "hash": _sha256_chain(audit.GENESIS, body)}) + "\n")
    assert check(log, key) == (1, None, "unkeyed")


def _remove_second(ls):
    return [ls[0], *ls[2:]]


def _remove_second_and_third(ls):
    return [ls[0], *ls[3:]]


def _swap_second_and_third(ls):
    return [ls[0], ls[2], ls[1], ls[3]]


def _move_second_to_the_end(ls):
    return [ls[0], *ls[2:], ls[1]]


def _copy_second(ls):
    return [ls[0], ls[1], ls[1], *ls[2:]]


def _malformed_in_the_middle(ls):
    return [ls[0], '{"action": "open_case", "actor": \n', *ls[1:]]


def _blank_line(ls):
    return [ls[0], ls[1], "\n", *ls[2:]]


def _truncated_last_line(ls):
    return [*ls[:3], ls[3][:40]]


def _newline_cut_off(ls):
    return [*ls[:3], ls[3].rstrip("\n")]


@pytest.mark.parametrize(("tamper", "expected"), [
    (_remove_second, (2, 3, "removed")),
    (_remove_second_and_third, (2, 4, "removed")),
    (_swap_second_and_third, (2, 3, "reordered")),
    (_move_second_to_the_end, (2, 3, "reordered")),
    (_copy_second, (3, 2, "reordered")),
    (_malformed_in_the_middle, (2, None, "malformed")),
    (_blank_line, (3, None, "malformed")),
    (_truncated_last_line, (4, None, "truncated")),
    (_newline_cut_off, (4, 4, "truncated")),  # still valid JSON: the old chain read it as intact
])
def test_verify_names_the_first_bad_entry(log, key, tamper, expected):
    write(log, 4)
    assert check(log, key) is None
    log.write_text("".join(tamper(lines(log))))
    assert check(log, key) == expected
    entries = audit.read_entries(log)
    assert not entries[-1]["chain_ok"] and entries[expected[0] - 1]["problem"] == str(audit.verify(log, key).problem)
    assert all(e["chain_ok"] for e in entries[:expected[0] - 1])


def test_verify_words(log, key):
    write(log, 4)
    log.write_text("".join(_remove_second_and_third(lines(log))))
    assert str(audit.verify(log, key)) == "line 2 (seq 4): removed: seqs 2–3 missing before it"
    log.write_text("")
    write(log, 4)
    log.write_text("".join(_swap_second_and_third(lines(log))))
    assert str(audit.verify(log, key)) == "line 2 (seq 3): reordered: seq 3 comes before seq 2, which is on line 3"
    assert str(audit.verify(log.with_name("gone.jsonl"), key)) == "the file does not exist"
    assert str(audit.verify(log.parent, key)) == "the file cannot be read (Is a directory)"


def test_a_log_written_with_another_key_is_named_as_such(log):
    write(log, 3)
    assert check(log, "another key") == (1, 1, "wrong_key")


def test_a_malformed_last_line_does_not_stop_the_action_being_audited(log, key):
    write(log, 2)
    with log.open("a") as f:
        f.write('{"action": "open_case", "act')  # a write cut off half-way
    assert audit.record("b@example.org", "open_case", WHOLE_LANDLORD, "D9", "2026-11-22", path=log)
    assert lines(log)[2] == '{"action": "open_case", "act\n'  # the new entry starts on a fresh line
    new = entry(log, 4)
    assert (new["seq"], new["prev"], new["after_break"], new["target"]) == (3, entry(log, 2)["mac"], True, "D9")
    assert check(log, key) == (3, None, "malformed")
    log.write_text("".join(lines(log)[:2] + lines(log)[3:]))  # the damaged line removed: still reported
    assert check(log, key) == (3, 3, "after_break")


@pytest.mark.parametrize("junk", [
    b"\xff\xfe not utf-8\n",
    b"[" * 50_000 + b"\n",  # nested deep enough to exhaust the parser
    b"[1, 2, 3]\n",
    b'{"seq": "1", "prev": "", "mac": ""}\n',
])
def test_record_steps_over_any_junk(log, key, junk):
    write(log, 1)
    with log.open("ab") as f:
        f.write(junk)
    assert audit.record("b@example.org", "export", WHOLE_LANDLORD, "x.csv", path=log)
    new = entry(log, 3)
    assert (new["seq"], new["prev"], new.get("after_break")) == (2, entry(log, 1)["mac"], True)
    assert audit.verify(log, key).problem.line == 2
    assert [e.get("target") for e in audit.read_entries(log)] == ["D1", None, "x.csv"]


def test_a_tail_of_nothing_but_junk_restarts_from_genesis_and_says_so(log, key):
    log.write_bytes(b"junk line\n" * 10_000)  # 100 kB: more than an append will read
    assert audit.record("b@example.org", "export", WHOLE_LANDLORD, "x.csv", path=log)
    new = json.loads(lines(log)[-1])
    assert (new["seq"], new["prev"], new["after_break"]) == (1, audit.GENESIS, True)
    assert check(log, key) == (1, None, "malformed")


def test_a_previously_trusted_entry_edited_at_the_tail_is_noted_by_the_next_append(log, key):
    write(log, 2)
    last = entry(log, 2)
    last["target"] = "D999"
    log.write_text(lines(log)[0] + json.dumps(last) + "\n")
    assert audit.record("b@example.org", "export", WHOLE_LANDLORD, "x.csv", path=log)
    assert entry(log, 3)["after_break"] is True
    assert check(log, key) == (2, 2, "edited")


def test_an_unwritable_log_returns_false_and_never_raises(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert audit.record("a@example.org", "open_case", WHOLE_LANDLORD, "D1", path=blocker / "audit.jsonl") is False
    assert "audit entry not written" in caplog.text


def _rchar() -> int:
    return int(next(line.split()[1] for line in Path("/proc/self/io").read_text().splitlines()
                    if line.startswith("rchar:")))


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts bytes read through /proc/self/io")
@pytest.mark.parametrize("healthy", [True, False])
def test_an_append_reads_only_the_end_of_a_50_mb_log(log, healthy):
    write(log, 3)
    tail = log.read_bytes()
    with log.open("wb") as f:  # a 50 MB line (an empty object, the old code read it), then the real entries
        f.write(b"{}" + b" " * 50 * 2**20 + b"\n" + tail + (b"" if healthy else b"not an entry\n" * 7_000))
    audit.record("a@example.org", "warm_up", WHOLE_LANDLORD, path=log.with_name("warm.jsonl"))
    before = _rchar()
    audit.record("b@example.org", "export", WHOLE_LANDLORD, "x.csv", path=log)
    read = _rchar() - before  # also counts reading /proc/self/io itself, a few hundred bytes
    if healthy:
        assert read < 8 * 1024, read
        previous, new = map(json.loads, last_lines(log)[-2:])
        assert (new["seq"], new["prev"], "after_break" in new) == (4, previous["mac"], False)
    else:  # no entry in the last 64 KiB: the append gives up looking, restarts the chain and says so
        assert read < audit.TAIL_LIMIT + 1024, read
        new = json.loads(last_lines(log)[-1])
        assert (new["seq"], new["prev"], new["after_break"]) == (1, audit.GENESIS, True)


def test_values_are_capped(log):
    long = "x" * 500_000  # e.g. a drill-down value taken from a URL
    teams = tuple(f"T{i}" for i in range(1_000))
    audit.record("a" * 1_000, "drill_down", Scope(region=long, teams=teams), long, long, path=log)
    line = lines(log)[0]
    assert len(line) < 2_000
    e = json.loads(line)
    assert e["target"] == "x" * 200 + "…[+499800 chars]"
    assert e["actor"] == "a" * 200 + "…[+800 chars]"
    assert e["scope"]["teams"] == [f"T{i}" for i in range(20)] + ["…[+980 items]"]


def _append_many(path: str, key: str, worker: int) -> None:
    for i in range(50):
        assert audit.record(f"w{worker}@example.org", "open_case", WHOLE_LANDLORD, f"D{worker}-{i}",
                            path=Path(path), key=key)


def test_concurrent_appends_from_four_processes_keep_one_chain(log, key):
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_append_many, args=(str(log), key, w)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0] * 4
    assert str(audit.verify(log, key)) == "intact: 200 entries"
    entries = audit.read_entries(log)
    assert [e["seq"] for e in entries] == list(range(1, 201))
    assert sorted(e["target"] for e in entries) == sorted(f"D{w}-{i}" for w in range(4) for i in range(50))


def test_without_a_configured_key_a_private_key_file_is_made_next_to_the_log(log, monkeypatch):
    monkeypatch.delenv(audit.KEY_ENV)
    monkeypatch.delitem(sys.modules, "streamlit", raising=False)  # nor any secrets.toml
    assert audit.audit_key(log) is None
    write(log, 2)
    made = Path(f"{log}.key")
    assert made.stat().st_mode & 0o777 == 0o600
    assert len(made.read_text().strip()) == 64
    assert audit.audit_key(log) == made.read_text().strip()
    assert str(audit.verify(log, audit.audit_key(log))) == "intact: 2 entries"
    elsewhere = log.parent / "keys" / "audit.key"
    monkeypatch.setenv(audit.KEY_FILE_ENV, str(elsewhere))
    assert audit.record("a@example.org", "open_case", WHOLE_LANDLORD, path=log.with_name("other.jsonl"))
    assert elsewhere.exists() and not Path(f"{log.with_name('other.jsonl')}.key").exists()


def test_the_apps_secret_is_read_only_when_streamlit_is_already_imported(log, monkeypatch):
    class FakeStreamlit:
        secrets = {"audit_key": "from-secrets"}

    monkeypatch.delenv(audit.KEY_ENV)
    monkeypatch.setitem(sys.modules, "streamlit", FakeStreamlit)
    assert audit.audit_key(log) == "from-secrets"
    monkeypatch.setenv(audit.KEY_ENV, "from-env")
    assert audit.audit_key(log) == "from-env"


def test_read_entries_without_any_key_trusts_nothing(log, monkeypatch):
    write(log, 2)
    monkeypatch.delenv(audit.KEY_ENV)
    monkeypatch.delitem(sys.modules, "streamlit", raising=False)
    entries = audit.read_entries(log)
    assert [e["chain_ok"] for e in entries] == [False, False]
    assert "no audit key" in entries[0]["problem"]
    assert not Path(f"{log}.key").exists()  # reading never makes a key


def run_cli(*args, **env):
    return command(*args, env=env)


def test_cli_audit_verify(log, key):
    write(log, 3)
    intact = run_cli("audit", "verify")
    assert (intact.returncode, intact.stdout, intact.stderr) == (0, "intact: 3 entries\n", "")
    wrong = run_cli("audit", "verify", **{audit.KEY_ENV: "another key"})
    assert wrong.returncode == 1 and wrong.stdout == ""
    assert wrong.stderr == f"error: audit trail {log}: line 1 (seq 1): wrong_key: no entry verifies with this key: " \
                           "written with a different key, or every entry rewritten\n"
    log.write_text("".join(_remove_second(lines(log))))
    removed = run_cli("audit", "verify")
    assert removed.returncode == 1
    assert removed.stderr.splitlines() == [
        f"error: audit trail {log}: line 2 (seq 3): removed: seq 2 missing before it"]
    assert run_cli("audit").returncode == 2


def test_cli_audit_verify_without_a_key(log):
    write(log, 1)
    done = command("audit", "verify", env={audit.KEY_ENV: None})
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and "no audit key: set HOUSING_ASSURANCE_AUDIT_KEY" in done.stderr


@pytest.fixture
def one_team_extract(tmp_path, monkeypatch):
    access = tmp_path / "access.toml"
    access.write_text(f'[[user]]\nemail = "{MANAGER}"\nrole = "manager"\n')
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(access))
    return write_extract(
        tmp_path / "extract",
        teams=[{"team_id": "T1", "region": "North", "manager_email": MANAGER}],
        damp_mould_cases=[{"case_id": "D1", "team_id": "T1", "reported_at": datetime(2026, 11, 17, 9)}])


def test_the_command_line_records_who_ran_it_and_for_whom(one_team_extract, log):
    me = pwd.getpwuid(os.getuid()).pw_name
    common = ["cases", "--data", str(one_team_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases", "--json"]
    plain = command(*common, env={"SUDO_USER": None})
    assert plain.returncode == 0, plain.stderr
    on_behalf = run_cli(*common, "--as-user", MANAGER, SUDO_USER="alice", USER="ceo", LOGNAME="ceo")
    assert on_behalf.returncode == 0, on_behalf.stderr
    assert [(e["actor"], e["on_behalf_of"], e["action"], e["target"]) for e in audit.read_entries(log)] == [
        (f"{me} (command line)", None, "cases", "dm.new_cases"),
        (f"{me} (command line, sudo by alice)", MANAGER, "cases", "dm.new_cases"),  # USER cannot fake the account
    ]


def test_the_command_line_shows_nothing_it_cannot_audit(one_team_extract, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = run_cli("cases", "--data", str(one_team_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases",
                   "--json", HOUSING_ASSURANCE_AUDIT=str(blocker / "audit.jsonl"))
    assert done.returncode == 1 and done.stdout == ""
    assert "could not be recorded in the audit trail" in done.stderr and "Traceback" not in done.stderr


def test_the_module_does_not_import_streamlit():
    done = subprocess.run([sys.executable, "-c", "import sys, housing_assurance.audit; "
                           "sys.exit('streamlit' in sys.modules)"], capture_output=True)
    assert done.returncode == 0


def test_the_audit_page_shows_any_line_without_failing(log, key):
    import polars as pl

    from housing_assurance.app.audit_page import _audit_row

    write(log, 2)
    odd = entry(log, 2) | {"target": 123, "scope": "anything", "actor": ["a", "list"]}
    log.write_text(lines(log)[0] + json.dumps(odd) + "\n[1, 2]\n" + '{"cut off')
    rows = [_audit_row(e) for e in audit.read_entries(log)]
    assert pl.DataFrame(rows)["Chain intact"].to_list() == [True, False, False, False]
    assert [(r["What"], r["Scope"]) for r in rows] == [
        ("D1", "T1"), ("123", None), ("[1, 2]", None), ('{"cut off', None)]
