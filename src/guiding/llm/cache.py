"""The response cache: one SQLite database (WAL) shared by every job that asks a model anything.

Why SQLite and these tables:
- ``responses``: one row per request key, committed in its own transaction as soon as the answer
  arrives (a local engine's chunk: one transaction when the chunk returns), so a killed job loses
  only what was in flight. Truncated answers are kept; their ``finish_reason`` ("length") marks them.
- ``leases``: a job leases a key before sending it. Another job that wants the same key sees the
  lease and waits for the row instead of paying for the same answer again. The answer's insert
  drops the lease (a trigger, same transaction). A lease expires unless its holder renews it, and
  a lease whose holder process is gone (same host) is taken over at once.
- ``failures``: every request that got no answer after its attempts, with the reason. A failure
  is a record, never an answer: the next run asks again.

WAL lets readers go on while one writer commits. It relies on shared memory between the
processes, so the database must sit on a local disk, not on a network file system.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .requests import ChatRequest, Completion, Failure, Response

SCHEMA_VERSION = 1
# One statement each. The trigger drops the lease on a key in the transaction that answers it.
SCHEMA = (
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
# File systems on which WAL's shared memory does not work across processes or hosts.
NETWORK_FILE_SYSTEMS = {
    *("nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "9p", "ceph", "lustre", "gpfs", "beegfs"),
    *("fuse.sshfs", "fuse.gcsfuse", "fuse.s3fs"),
}
CHUNK = 500  # keys per IN (...) query, well under SQLite's bound on host parameters

LEASED, DONE, HELD, FREE = "leased", "done", "held", "free"


class CacheError(RuntimeError):
    """The cache cannot be used where or as asked."""


def new_holder() -> str:
    """A lease holder name: host, process id and a random token (one per generate call)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a killed child that its parent has not reaped yet is a zombie: gone all the same
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def holder_gone(holder: str) -> bool:
    """Whether a lease's holder process has ended; only decidable on this host (else False)."""
    host, pid, _ = holder.rsplit(":", 2)
    return host == socket.gethostname() and pid.isdigit() and _process_gone(int(pid))


def file_system_type(path: Path) -> str | None:
    """The type of the file system holding ``path`` (Linux mountinfo), or None where unknown."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    target, best, fs_type = str(path.resolve()), "", None
    for line in lines:
        left, _, right = line.partition(" - ")
        mount = left.split()[4].encode().decode("unicode_escape")  # \040 for a space, and so on
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best):
            best, fs_type = mount, right.split()[0]
    return fs_type


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class ResponseCache:
    """The cache at ``path`` (created with its folder unless ``must_exist``).

    One connection per instance, used from one thread at a time. ``busy_timeout_s`` is how long a
    write waits for another process's transaction before failing.
    """

    def __init__(self, path: str | os.PathLike, *, must_exist: bool = False, busy_timeout_s: float = 60.0):
        self.path = Path(path)
        if must_exist and not self.path.exists():
            raise CacheError(f"no response cache at {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fs = file_system_type(self.path.parent)
        if fs in NETWORK_FILE_SYSTEMS:
            raise CacheError(
                f"response cache {self.path} is on a {fs} file system; SQLite WAL needs a local disk "
                "(put the cache on local storage, e.g. the node's scratch disk)"
            )
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise CacheError(f"response cache {self.path}: SQLite refused WAL mode (got {mode!r})")
        # NORMAL in WAL: a commit survives a killed process; only a power cut may lose the last few.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise CacheError(f"response cache {self.path} has schema {version}, this code reads {SCHEMA_VERSION}")
            for statement in SCHEMA:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE takes the write lock up front, so a read-then-write cannot race another job."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Responses

    def get_many(self, keys: Iterable[str]) -> dict[str, Response]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, Response] = {}
        for chunk in _chunks(keys):
            rows = self._db.execute(
                "SELECT key, text, finish_reason, prompt_tokens, completion_tokens, latency_s, created "
                f"FROM responses WHERE key IN ({_marks(len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row[0]] = Response(*row)
        return found

    def get(self, key: str) -> Response | None:
        return self.get_many([key]).get(key)

    def put_many(self, answered: Sequence[tuple[ChatRequest, Completion]]) -> None:
        """Commit answers in one transaction; a trigger drops the leases on their keys with it.

        A key that already has a row keeps it (the first answer stays the answer).
        """
        now = time.time()
        rows = [
            (r.key, r.canonical, r.item_id, r.sample, c.text, c.finish_reason)
            + (c.prompt_tokens, c.completion_tokens, c.latency_s, now)
            for r, c in answered
        ]
        insert = "INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        if len(rows) == 1:
            self._db.execute(insert, rows[0])  # one statement: its own transaction
            return
        with self._transaction():
            self._db.executemany(insert, rows)

    def put(self, request: ChatRequest, completion: Completion) -> None:
        self.put_many([(request, completion)])

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM responses")}

    # Leases

    def lease(self, keys: Sequence[str], holder: str, ttl_s: float) -> dict[str, str]:
        """Try to lease ``keys`` for ``holder``: each gets LEASED, DONE (a row exists) or HELD
        (another live holder has it). Expired leases and leases of ended processes are taken over."""
        now, status = time.time(), {}
        with self._transaction():
            for chunk in _chunks(list(keys)):
                marks = _marks(len(chunk))
                done = {row[0] for row in self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)}
                held = {
                    key: (other, expires)
                    for key, other, expires in self._db.execute(
                        f"SELECT key, holder, expires FROM leases WHERE key IN ({marks})", chunk
                    )
                }
                take = []
                for key in chunk:
                    if key in done:
                        status[key] = DONE
                    elif self._held_by_other(held.get(key), holder, now):
                        status[key] = HELD
                    else:
                        status[key] = LEASED
                        take.append((key, holder, now + ttl_s))
                self._db.executemany("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", take)
        return status

    def status(self, keys: Sequence[str]) -> dict[str, str]:
        """DONE, HELD (by a live, unexpired holder) or FREE for each key; reads only."""
        now, status = time.time(), {}
        for chunk in _chunks(list(keys)):
            marks = _marks(len(chunk))
            done = {row[0] for row in self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)}
            held = {
                key
                for key, other, expires in self._db.execute(
                    f"SELECT key, holder, expires FROM leases WHERE key IN ({marks})", chunk
                )
                if expires > now and not holder_gone(other)
            }
            for key in chunk:
                status[key] = DONE if key in done else HELD if key in held else FREE
        return status

    @staticmethod
    def _held_by_other(lease: tuple[str, float] | None, holder: str, now: float) -> bool:
        return lease is not None and lease[0] != holder and lease[1] > now and not holder_gone(lease[0])

    def renew(self, holder: str, ttl_s: float) -> int:
        """Push the expiry of all of ``holder``'s leases to now + ``ttl_s``; how many it holds."""
        with self._transaction():
            return self._db.execute(
                "UPDATE leases SET expires = ? WHERE holder = ?", (time.time() + ttl_s, holder)
            ).rowcount

    def release(self, holder: str, keys: Iterable[str] | None = None) -> None:
        """Drop ``holder``'s leases (all of them, or those on ``keys``)."""
        with self._transaction():
            if keys is None:
                self._db.execute("DELETE FROM leases WHERE holder = ?", (holder,))
            else:
                self._db.executemany("DELETE FROM leases WHERE key = ? AND holder = ?", [(k, holder) for k in keys])

    def leases(self) -> list[tuple[str, str, float]]:
        """(key, holder, expires) of every lease, e.g. the requests in flight when a job was killed."""
        return self._db.execute("SELECT key, holder, expires FROM leases").fetchall()

    # Failures

    def record_failures(self, failed: Sequence[tuple[ChatRequest, str, int]], holder: str | None = None) -> None:
        """Record (request, reason, attempts) rows and drop ``holder``'s leases on them, in one transaction."""
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT INTO failures (key, item_id, sample, request, reason, attempts, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.key, r.item_id, r.sample, r.canonical, reason, n, now) for r, reason, n in failed],
            )
            if holder is not None:
                self._db.executemany(
                    "DELETE FROM leases WHERE key = ? AND holder = ?", [(r.key, holder) for r, _, _ in failed]
                )

    def failures(self) -> list[Failure]:
        rows = self._db.execute("SELECT key, item_id, sample, reason, attempts FROM failures ORDER BY id")
        return [Failure(*row) for row in rows]

    def request_json(self, key: str) -> dict | None:
        row = self._db.execute("SELECT request FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None
