"""The response cache: committed rows, leases between processes, failures, and where it may live."""

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from guiding.llm import CacheError, ChatRequest, Completion, ResponseCache, Sampling
from guiding.llm import cache as cache_module
from guiding.llm.cache import DONE, FREE, HELD, LEASED, new_holder


def req(i: int, **sampling) -> ChatRequest:
    return ChatRequest.build(
        endpoint="test",
        model="m",
        messages=[{"role": "user", "content": f"q{i}"}],
        sampling=Sampling(**sampling),
        item_id=f"item-{i}",
    )


@pytest.fixture
def cache(tmp_path):
    with ResponseCache(tmp_path / "cache" / "responses.db") as c:
        yield c


def test_answers_are_committed_one_by_one_and_truncated_ones_are_kept_and_marked(cache):
    a, b = req(1), req(2, max_tokens=3)
    cache.put(a, Completion("four", "stop", 10, 1, 0.2))
    other = sqlite3.connect(cache.path)  # another connection sees the row at once: it is committed
    assert other.execute("SELECT text, finish_reason FROM responses").fetchall() == [("four", "stop")]
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    cache.put(b, Completion("one two three", "length", 10, 3, 0.3))
    got = cache.get_many([a.key, b.key, "missing"])
    assert set(got) == {a.key, b.key}
    assert got[a.key].text == "four" and not got[a.key].truncated
    assert got[b.key].truncated and got[b.key].completion_tokens == 3
    assert cache.request_json(b.key)["sampling"]["max_tokens"] == 3


def test_the_first_answer_stays_the_answer(cache):
    cache.put(req(1), Completion("first", "stop"))
    cache.put(req(1), Completion("second", "stop"))
    assert cache.get(req(1).key).text == "first" and cache.count() == 1


def test_a_lease_makes_others_wait_until_the_answer_or_the_release(cache):
    k1, k2 = req(1).key, req(2).key
    a, b = new_holder(), new_holder()
    assert cache.lease([k1, k2], a, ttl_s=60) == {k1: LEASED, k2: LEASED}
    assert cache.lease([k1, k2], b, ttl_s=60) == {k1: HELD, k2: HELD}
    assert cache.status([k1, k2]) == {k1: HELD, k2: HELD}
    cache.put(req(1), Completion("x", "stop"))  # the answer drops every lease on its key
    cache.release(a, [k2])
    assert cache.status([k1, k2]) == {k1: DONE, k2: FREE}
    assert cache.lease([k1, k2], b, ttl_s=60) == {k1: DONE, k2: LEASED}
    assert [(k, h) for k, h, _ in cache.leases()] == [(k2, b)]


def test_an_expired_lease_is_taken_over(cache):
    key = req(1).key
    cache.lease([key], new_holder(), ttl_s=0.05)
    time.sleep(0.1)
    assert cache.status([key]) == {key: FREE}
    assert cache.lease([key], new_holder(), ttl_s=60) == {key: LEASED}


def test_renewing_keeps_a_lease(cache):
    key, holder = req(1).key, new_holder()
    cache.lease([key], holder, ttl_s=0.2)
    time.sleep(0.1)
    assert cache.renew(holder, ttl_s=60) == 1
    time.sleep(0.15)
    assert cache.lease([key], new_holder(), ttl_s=60) == {key: HELD}


def test_the_lease_of_a_killed_process_is_taken_over_at_once(cache):
    key = req(1).key
    code = (
        "import sys, time; from guiding.llm.cache import ResponseCache, new_holder;"
        f"c = ResponseCache({str(cache.path)!r}); c.lease([{key!r}], new_holder(), ttl_s=3600);"
        "print('leased', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "leased"
        assert cache.lease([key], new_holder(), ttl_s=60) == {key: HELD}
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert cache.lease([key], new_holder(), ttl_s=60) == {key: LEASED}
    finally:
        child.kill()
        child.wait()


def test_a_holder_on_another_host_is_trusted_until_its_lease_expires(cache):
    key = req(1).key
    cache.lease([key], "another-host:1:abc", ttl_s=3600)
    assert cache.lease([key], new_holder(), ttl_s=60) == {key: HELD}


def test_failures_are_recorded_with_their_reason_and_free_the_lease(cache):
    holder = new_holder()
    cache.lease([req(1).key], holder, ttl_s=60)
    cache.record_failures([(req(1), "HTTP 500: boom", 6)], holder)
    (failure,) = cache.failures()
    assert (failure.item_id, failure.reason, failure.attempts) == ("item-1", "HTTP 500: boom", 6)
    assert cache.leases() == [] and cache.count() == 0


def test_network_file_systems_are_refused(tmp_path, monkeypatch):
    assert cache_module.file_system_type(tmp_path) is not None
    monkeypatch.setattr(cache_module, "file_system_type", lambda path: "nfs4")
    with pytest.raises(CacheError, match="local disk"):
        ResponseCache(tmp_path / "c.db")


def test_a_cache_of_another_schema_or_a_missing_one_is_refused(tmp_path):
    with pytest.raises(CacheError, match="no response cache"):
        ResponseCache(tmp_path / "missing.db", must_exist=True)
    db = sqlite3.connect(tmp_path / "old.db")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(CacheError, match="schema 99"):
        ResponseCache(tmp_path / "old.db")


def test_a_cache_path_whose_folder_is_a_file_names_the_cache_and_the_setting(tmp_path):
    (tmp_path / "results").write_text("a file where the cache's folder should be")
    for path in (tmp_path / "results" / "responses.sqlite", tmp_path / "results" / "llm" / "responses.sqlite"):
        with pytest.raises(CacheError) as error:
            ResponseCache(path)
        assert str(path) in str(error.value) and "llm.cache" in str(error.value)
        assert f"{tmp_path / 'results'} is a file" in str(error.value)


READ_BACK = """
import json, sys
from guiding.core.provenance.audit import Audit
from guiding.core.provenance.lineage import cached_replies
from guiding.llm import ResponseCache
path, key = sys.argv[1], sys.argv[2]
with ResponseCache(path, must_exist=True, read_only=True) as cache:
    replay = cache.get(key).text
lineage = cached_replies(path, [key])[key][1]
audit = Audit(root="/")._cache(path.lstrip("/"), [key])[key][1]
print(json.dumps([replay, lineage, audit]))
"""


def read_from_read_only_medium(folder, args: list[str]) -> subprocess.CompletedProcess:
    """``READ_BACK`` run with ``folder`` on a read-only medium: a read-only bind mount in a mount
    namespace of its own (root), else a folder without write permission (not root: SQLite cannot
    create the ``-shm`` file a WAL database opened with ``mode=ro`` needs, as on a read-only mount)."""
    command = [sys.executable, "-c", READ_BACK, *args]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run(command, capture_output=True, text=True)
        finally:
            folder.chmod(0o755)
    mount = f"mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && touch {folder}/probe"
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", mount], capture_output=True)
    if b"Read-only file system" not in probe.stderr:
        pytest.skip(f"no read-only bind mount here: {probe.stderr.decode()[-200:]}")
    script = f'mount --bind {folder} {folder} && mount -o remount,ro,bind {folder} && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", *command],
        capture_output=True,
        text=True,
    )


def test_replay_the_job_record_and_the_audit_read_a_wal_cache_on_a_read_only_mount(tmp_path):
    """One reader for all three: SQLite's mode=ro cannot open a WAL database where its -shm file
    cannot be created; immutable=1 can, and the file stays as it was."""
    folder = tmp_path / "archive"
    path = folder / "responses.sqlite"
    with ResponseCache(path) as cache:
        cache.put(req(1), Completion("an answer", "stop"))
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    before = path.read_bytes()
    out = read_from_read_only_medium(folder, [str(path), req(1).key])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == ["an answer"] * 3
    assert path.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["responses.sqlite"]
