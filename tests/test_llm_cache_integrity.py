"""The response cache defends its rows: schema 2 (reasoning, checksums) migrated in place from
schema 1, checksums verified on every read, read-only opening for replay, damaged files named."""

import json
import os
import shutil
import sqlite3

import pytest

from guiding.llm import CacheError, ChatRequest, Completion, ResponseCache
from guiding.llm.cache import SCHEMA_VERSION, CacheDamaged, ChecksumMismatch, row_checksum

# The schema of today's main (version 1), copied as it was: the fixture of the migration test.
SCHEMA_V1 = (
    """CREATE TABLE IF NOT EXISTS responses (
        key TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        item_id TEXT NOT NULL,
        sample INTEGER NOT NULL,
        text TEXT NOT NULL,
        finish_reason TEXT NOT NULL,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        latency_s REAL,
        created REAL NOT NULL
    )""",
    "CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)",
    """CREATE TABLE IF NOT EXISTS failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        sample INTEGER NOT NULL,
        request TEXT NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        time REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS leases_by_holder ON leases (holder)",
    "CREATE INDEX IF NOT EXISTS failures_by_key ON failures (key)",
    """CREATE TRIGGER IF NOT EXISTS answered_keys_need_no_lease AFTER INSERT ON responses
    BEGIN
        DELETE FROM leases WHERE key = NEW.key;
    END""",
)


def req(i: int) -> ChatRequest:
    return ChatRequest.build(
        endpoint="test", model="m", messages=[{"role": "user", "content": f"question {i}"}], item_id=f"item-{i}"
    )


def answer(i: int) -> str:
    return f"Step 1: {i} - 4 = {i - 4}\nThe answer is \\boxed{{{i - 4}}}. ANSWER-{i:04d}"


def filled(path, n=40, **completion) -> list[ChatRequest]:
    requests = [req(i) for i in range(n)]
    with ResponseCache(path) as cache:
        cache.put_many(
            [(r, Completion(answer(i), "stop", 10 + i, 20 + i, 0.1, **completion)) for i, r in enumerate(requests)]
        )
    return requests


def v1_cache(path, n=30) -> list[tuple]:
    """A cache as today's main writes it (schema 1), with ``n`` answers and a failure; its rows."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for statement in SCHEMA_V1:
        db.execute(statement)
    db.execute("PRAGMA user_version=1")
    rows = [
        (r.key, r.canonical, r.item_id, r.sample, answer(i), "length" if i % 7 == 0 else "stop", 5, 7 + i, 0.5, 1e9 + i)
        for i, r in enumerate(req(i) for i in range(n))
    ]
    db.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute(
        "INSERT INTO failures (key, item_id, sample, request, reason, attempts, time) "
        "VALUES ('k', 'i', 0, '{}', 'HTTP 500', 6, 1)"
    )
    db.close()
    return rows


def files_state(folder) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def test_a_schema_1_cache_is_migrated_in_place_and_keeps_every_answer(tmp_path):
    path = tmp_path / "old.sqlite"
    rows = v1_cache(path)
    with ResponseCache(path) as cache:
        got = cache.get_many(r[0] for r in rows)
        assert len(got) == len(rows) == cache.count()
        for key, request, _, _, text, finish, prompt, completion, latency, created in rows:
            response = got[key]
            assert (response.text, response.finish_reason, response.prompt_tokens, response.completion_tokens) == (
                text,
                finish,
                prompt,
                completion,
            )
            assert (response.latency_s, response.created, response.reasoning) == (latency, created, None)
            assert cache.request_json(key) == json.loads(request)
        assert [f.reason for f in cache.failures()] == ["HTTP 500"]
        cache.put(req(99), Completion("new", "stop", reasoning="thought"))  # a new row after the migration
        assert cache.get(req(99).key).reasoning == "thought"
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    checksums = dict(db.execute("SELECT key, checksum FROM responses"))
    assert all(checksums[r[0]] == row_checksum(r[0], r[1], r[4], r[5], None, r[6], r[7]) for r in rows)
    db.close()
    with ResponseCache(path) as again:  # a second open finds schema 2 and changes nothing
        assert again.count() == len(rows) + 1


def test_reasoning_and_finish_reason_are_stored_with_the_text(tmp_path):
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        cache.put(req(1), Completion("4", "length", 3, 9, 0.1, reasoning="2 + 2 is 4"))
        cache.put(req(2), Completion("5", "stop"))
        one, two = cache.get(req(1).key), cache.get(req(2).key)
    assert (one.text, one.finish_reason, one.reasoning, one.truncated) == ("4", "length", "2 + 2 is 4", True)
    assert (two.reasoning, two.truncated) == (None, False)


# One change per column that a checksum covers, as an UPDATE's SET clause.
ALTERATIONS = {
    "text": "text = replace(text, '= 1', '= 7')",
    "finish_reason": "finish_reason = 'length'",
    "reasoning": "reasoning = NULL",
    "completion_tokens": "completion_tokens = completion_tokens + 1",
    "request": "request = replace(request, 'question', 'Question')",
}


@pytest.mark.parametrize("column", sorted(ALTERATIONS))
def test_an_altered_row_is_an_error_naming_its_key_and_file_never_an_answer(tmp_path, column):
    path = tmp_path / "c.sqlite"
    requests = filled(path, reasoning="thinking")
    target = requests[5].key
    db = sqlite3.connect(path, isolation_level=None)
    assert db.execute(f"UPDATE responses SET {ALTERATIONS[column]} WHERE key = ?", (target,)).rowcount == 1
    db.close()
    with ResponseCache(path) as cache:
        assert cache.get(requests[4].key).text == answer(4)  # the other rows are served
        with pytest.raises(ChecksumMismatch) as error:
            cache.get_many([r.key for r in requests])
    assert target in str(error.value) and str(path) in str(error.value)
    with ResponseCache(path, read_only=True) as cache, pytest.raises(ChecksumMismatch, match=target):
        cache.get(target)


def test_one_flipped_byte_in_the_file_is_an_error_naming_key_and_file(tmp_path):
    path = tmp_path / "c.sqlite"
    requests = filled(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"ANSWER-0017")
    data[at + len("ANSWER-001")] ^= 0x01  # "ANSWER-0017" -> "ANSWER-0016": still valid text
    path.write_bytes(bytes(data))
    with ResponseCache(path) as cache, pytest.raises(ChecksumMismatch) as error:
        cache.get_many(r.key for r in requests)
    assert requests[17].key in str(error.value) and str(path) in str(error.value)


def test_replay_opens_read_only_never_writes_and_never_creates(tmp_path):
    with pytest.raises(CacheError, match=f"no response cache at {tmp_path / 'missing.sqlite'}"):
        ResponseCache(tmp_path / "missing.sqlite", read_only=True)
    assert list(tmp_path.iterdir()) == []  # nothing created, not even the folder's files
    requests = filled(tmp_path / "src" / "c.sqlite")
    archive = tmp_path / "archive"
    archive.mkdir()
    shutil.copy(tmp_path / "src" / "c.sqlite", archive / "c.sqlite")
    os.chmod(archive / "c.sqlite", 0o444)
    before = files_state(archive)
    with ResponseCache(archive / "c.sqlite", read_only=True) as cache:
        assert [cache.get(r.key).text for r in requests] == [answer(i) for i in range(len(requests))]
        with pytest.raises(CacheError, match="read-only"):
            cache.put(req(100), Completion("x", "stop"))
        with pytest.raises(CacheError, match="read-only"):
            cache.lease([req(100).key], "h:1:x", 60)
    assert files_state(archive) == before  # same bytes, same mtime, no -wal or -shm file
    # A writable file is opened with mode=ro: its bytes stay the same too.
    writable = tmp_path / "src" / "c.sqlite"
    data = writable.read_bytes()
    with ResponseCache(writable, read_only=True) as cache:
        assert cache.count() == len(requests)
    assert writable.read_bytes() == data


def test_read_only_reads_a_schema_1_cache_without_migrating_it(tmp_path):
    path = tmp_path / "old.sqlite"
    rows = v1_cache(path, n=5)
    os.chmod(path, 0o444)
    before = files_state(tmp_path)
    with ResponseCache(path, read_only=True) as cache:
        assert {k: r.text for k, r in cache.get_many(r[0] for r in rows).items()} == {r[0]: r[4] for r in rows}
    assert files_state(tmp_path) == before


def damage_header(path):
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"
    path.write_bytes(bytes(data))


def damage_middle(path):
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for start in range(page, len(data) - page, page):  # every page but the first and the last
        data[start : start + page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))


def damage_end(path):
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-page:] = bytes([0x5A]) * page
    path.write_bytes(bytes(data))


def truncate_end(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 100])


@pytest.mark.parametrize("damage", [damage_header, damage_middle, damage_end, truncate_end])
@pytest.mark.parametrize("read_only", [False, True])
def test_a_damaged_file_is_an_error_naming_it_and_the_way_to_recover(tmp_path, damage, read_only):
    path = tmp_path / "c.sqlite"
    requests = filled(path, n=300)  # several pages
    damage(path)
    with pytest.raises(CacheDamaged) as error:
        with ResponseCache(path, read_only=read_only) as cache:
            cache.get_many(r.key for r in requests)
            cache.failures()
    message = str(error.value)
    assert str(path) in message and f"sqlite3 {path} .recover" in message and "backup" in message


def test_an_empty_file_is_refused_read_only_and_is_an_empty_cache_otherwise(tmp_path):
    path = tmp_path / "c.sqlite"
    filled(path)
    path.write_bytes(b"")
    with pytest.raises(CacheError, match=f"{path} is empty"):
        ResponseCache(path, read_only=True)
    with ResponseCache(path) as cache:  # a job's guard against re-paying is its ledger (test_llm_ledger)
        assert cache.count() == 0
