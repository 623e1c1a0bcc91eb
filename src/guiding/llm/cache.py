"""The response cache: one SQLite database (WAL) shared by every job that asks a model anything.

Why SQLite and these tables:
- ``responses``: one row per request key, committed in its own transaction as soon as the answer
  arrives (a local engine's chunk: one transaction when the chunk returns), so a killed job loses
  only what was in flight. A row holds the reply's raw text, its ``finish_reason`` (truncated
  answers are kept, marked "length"), the reasoning the server returned apart from the answer
  (``reasoning``, NULL when none) and a ``checksum`` of all of it (see ``row_checksum``), verified
  on every read: an altered row is an error naming its key and the file, never an answer.
- ``leases``: a job leases a key before sending it. Another job that wants the same key sees the
  lease and waits for the row instead of paying for the same answer again. The answer's insert
  drops the lease (a trigger, same transaction). A lease expires unless its holder renews it, and
  a lease whose holder process is gone (same host) is taken over at once.
- ``failures``: every request that got no answer after its attempts, with the reason. A failure
  is a record, never an answer: the next run asks again.

Schema versions (``PRAGMA user_version``): 1 had no ``reasoning`` and no ``checksum``; 2 adds both.
A version-1 cache opened for writing is migrated in place, in one transaction: its rows keep
their answers and get their checksums then. Opened read-only (``read_only=True``: replay, audits)
the database is never written or created: SQLite's ``mode=ro``, or ``immutable=1`` where the file
or its folder cannot be written (an archive, a read-only mount), so no lock file is needed.

WAL lets readers go on while one writer commits. It relies on shared memory between the
processes, so the database must sit on a local disk, not on a network file system.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import sqlite3
import stat
import time
import urllib.parse
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .requests import ChatRequest, Completion, Failure, Response

log = logging.getLogger("guiding.llm")

# Where the response cache lies when the config names none (the schema default of llm.cache).
DEFAULT_CACHE = ".cache/llm/responses.sqlite"
SCHEMA_VERSION = 2
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
        created REAL NOT NULL,
        reasoning TEXT,
        checksum TEXT NOT NULL
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
# Version 1 -> 2, after which the checksums of the old rows are computed (ALTER TABLE appends
# the columns, so a migrated table has the column order of a new one).
MIGRATE_FROM_1 = (
    "ALTER TABLE responses ADD COLUMN reasoning TEXT",
    "ALTER TABLE responses ADD COLUMN checksum TEXT NOT NULL DEFAULT ''",
)
COLUMNS = (
    "key, request, item_id, sample, text, finish_reason, prompt_tokens, completion_tokens, latency_s, created, "
    "reasoning, checksum"
)
# What a read needs: the Response fields, and what the checksum covers.
READ = "key, text, finish_reason, prompt_tokens, completion_tokens, latency_s, created, reasoning, request, checksum"
READ_V1 = "key, text, finish_reason, prompt_tokens, completion_tokens, latency_s, created, NULL, request, NULL"
# File systems on which WAL's shared memory does not work across processes or hosts.
NETWORK_FILE_SYSTEMS = {
    *("nfs", "nfs4", "cifs", "smb3", "smbfs", "afs", "9p", "ceph", "lustre", "gpfs", "beegfs"),
    *("fuse.sshfs", "fuse.gcsfuse", "fuse.s3fs"),
}
CHUNK = 500  # keys per IN (...) query, well under SQLite's bound on host parameters
# SQLite's result codes for a file that is not a database or whose pages do not hold together.
DAMAGE_CODES = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

LEASED, DONE, HELD, FREE = "leased", "done", "held", "free"


class CacheError(RuntimeError):
    """The cache cannot be used where or as asked."""


class CacheDamaged(CacheError):
    """The database file is damaged: SQLite cannot read it as a database."""

    def __init__(self, path: Path, detail: str):
        self.path = path
        super().__init__(
            f"response cache {path} is damaged ({detail}). Its answers may be recoverable: "
            f"`sqlite3 {path} .recover | sqlite3 recovered.sqlite`, then point llm.cache at the recovered "
            "file (or put it in place of this one); or restore the cache from a backup and replay from it. "
            "Do not delete it before recovering: it holds paid answers."
        )


class ChecksumMismatch(CacheError):
    """A stored row does not match its checksum: it was altered after it was written."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key
        super().__init__(
            f"response cache {path}: the stored answer of key {key} does not match its checksum (the row was "
            "altered after it was written), so it is not served. Restore the cache from a backup, or delete "
            f"the row to ask again: sqlite3 {path} \"DELETE FROM responses WHERE key = '{key}'\""
        )


def row_checksum(
    key: str,
    request: str,
    text: str,
    finish_reason: str,
    reasoning: str | None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
) -> str:
    """sha256 over what a row answers and bills: its key, request, text, finish reason, reasoning
    and token counts (JSON, so that no two different rows give the same bytes)."""
    payload = [key, request, text, finish_reason, reasoning, prompt_tokens, completion_tokens]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def _writable(path: Path) -> bool:
    """Whether ``path`` and its folder may be written: by permissions and by mode bits (root passes
    every permission check, but a file whose mode has no write bit was meant to stay as it is)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and all(
        os.access(p, os.W_OK) for p in (path, path.parent)
    )


def connect_read_only(path: str | os.PathLike, busy_timeout_s: float = 60.0) -> sqlite3.Connection:
    """The cache file at ``path``, opened so that nothing is written or created: with SQLite's
    ``immutable=1`` where the file or its folder cannot be written (an archive, a read-only mount,
    a ``chmod 0444`` copy), else with ``mode=ro``.

    ``immutable=1`` reads the main file alone and takes no lock: right for a file that cannot change,
    and the only way to read a WAL database on a read-only file system (``mode=ro`` needs its
    ``-shm`` file, which cannot be created there). Committed answers still in a ``-wal`` file need
    ``mode=ro``, which reads the WAL too. Errors are SQLite's own (callers name the file)."""
    path = Path(path)
    wal = path.with_name(path.name + "-wal")
    immutable = not _writable(path) and not (wal.exists() and wal.stat().st_size)
    uri = f"file:{urllib.parse.quote(str(path.resolve()))}?{'immutable=1' if immutable else 'mode=ro'}"
    return sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)


def stored_replies(path: str | os.PathLike, keys: Iterable[str]) -> dict[str, tuple[str | None, str, str]]:
    """``{key: (request JSON, text, finish_reason)}`` of the ``keys`` the cache at ``path`` holds, as
    stored: read as ``connect_read_only`` opens it, rows not verified (the audit compares them with
    what a job recorded), only the columns every schema has. The one reader of the cache for job
    records and audits; a SQLite error is a ``CacheError`` naming the file and ``llm.cache``."""
    keys = list(dict.fromkeys(keys))
    rows: dict[str, tuple[str | None, str, str]] = {}
    if not keys:
        return rows
    try:
        db = connect_read_only(path)
        try:
            for chunk in _chunks(keys):
                query = f"SELECT key, request, text, finish_reason FROM responses WHERE key IN ({_marks(len(chunk))})"
                rows.update({key: (request, text, finish) for key, request, text, finish in db.execute(query, chunk)})
        finally:
            db.close()
    except sqlite3.Error as e:
        raise CacheError(f"response cache {path} (llm.cache): {type(e).__name__}: {e}") from e
    return rows


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
    """The cache at ``path`` (created with its folder unless ``must_exist`` or ``read_only``).

    One connection per instance, used from one thread at a time. ``busy_timeout_s`` is how long a
    write waits for another process's transaction before failing. ``read_only``: the file must
    exist and is never written (see the module docstring); only reads are allowed.

    Every SQLite error names the file; a damaged file raises ``CacheDamaged`` with the way to
    recover, an altered row ``ChecksumMismatch``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        must_exist: bool = False,
        read_only: bool = False,
        busy_timeout_s: float = 60.0,
    ):
        self.path = Path(path)
        self.read_only = read_only
        if (must_exist or read_only) and not self.path.is_file():
            raise CacheError(f"no response cache at {self.path} (llm.cache)")
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:  # a file where a folder of the path should be, no permission, ...
                blocker = next((p for p in (self.path.parent, *self.path.parent.parents) if p.is_file()), None)
                why = f"{blocker} is a file, not a folder" if blocker else f"{type(e).__name__}: {e}"
                raise CacheError(f"cannot create the folder of response cache {self.path} (llm.cache): {why}") from e
        fs = file_system_type(self.path.parent)
        if fs in NETWORK_FILE_SYSTEMS:
            raise CacheError(
                f"response cache {self.path} is on a {fs} file system; SQLite WAL needs a local disk "
                "(put the cache on local storage, e.g. the node's scratch disk)"
            )
        self._db: sqlite3.Connection | None = None
        try:
            with self._errors():
                if read_only:
                    self._open_read_only(busy_timeout_s)
                else:
                    self._open_for_writing(busy_timeout_s)
        except BaseException:
            if self._db is not None:
                self._db.close()
            raise

    def _open_for_writing(self, busy_timeout_s: float) -> None:
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise CacheError(f"response cache {self.path}: SQLite refused WAL mode (got {mode!r})")
        # NORMAL in WAL: a commit survives a killed process; only a power cut may lose the last few.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, SCHEMA_VERSION):
                raise CacheError(f"response cache {self.path} has schema {version}, this code reads {SCHEMA_VERSION}")
            if version == 1:
                self._migrate_from_1()
            for statement in SCHEMA:
                self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self.version = SCHEMA_VERSION

    def _migrate_from_1(self) -> None:
        """Add the reasoning and checksum columns and checksum every row (inside the open's transaction)."""
        for statement in MIGRATE_FROM_1:
            self._db.execute(statement)
        rows = self._db.execute(
            "SELECT key, request, text, finish_reason, reasoning, prompt_tokens, completion_tokens FROM responses"
        ).fetchall()
        self._db.executemany(
            "UPDATE responses SET checksum = ? WHERE key = ?", [(row_checksum(*row), row[0]) for row in rows]
        )
        log.info("response cache %s: migrated from schema 1 to %d (%d rows kept)", self.path, SCHEMA_VERSION, len(rows))

    def _open_read_only(self, busy_timeout_s: float) -> None:
        if self.path.stat().st_size == 0:
            raise CacheError(f"response cache {self.path} is empty (0 bytes): it holds no answers")
        self._db = connect_read_only(self.path, busy_timeout_s)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version not in (1, SCHEMA_VERSION) or "responses" not in tables:
            raise CacheError(
                f"response cache {self.path} has schema {version}"
                + ("" if "responses" in tables else " and no responses table")
                + f", this code reads {SCHEMA_VERSION} (and 1)"
            )
        if version == 1:
            log.warning(
                "response cache %s has schema 1 (rows without checksums) and is opened read-only, so it "
                "is not migrated; open it once for writing to migrate it",
                self.path,
            )
        self.version = version

    @contextmanager
    def _errors(self):
        """SQLite errors as CacheErrors naming the file (a damaged file: CacheDamaged)."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            name = getattr(e, "sqlite_errorname", "")
            if name in DAMAGE_CODES or any(w in str(e) for w in ("malformed", "not a database", "corrupt")):
                raise CacheDamaged(self.path, f"{name or type(e).__name__}: {e}") from e
            raise CacheError(f"response cache {self.path}: {type(e).__name__}: {e}") from e

    def _rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._errors():
            return self._db.execute(sql, params).fetchall()

    def _write(self, sql: str, params: Sequence = (), many: bool = False) -> int:
        if self.read_only:
            raise CacheError(f"response cache {self.path} is open read-only")
        with self._errors():
            cursor = self._db.executemany(sql, params) if many else self._db.execute(sql, params)
            return cursor.rowcount

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self):
        """BEGIN IMMEDIATE takes the write lock up front, so a read-then-write cannot race another job."""
        if self.read_only:
            raise CacheError(f"response cache {self.path} is open read-only")
        with self._errors():
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:  # a damaged file may refuse that too; the first error is the one to report
                pass
            raise
        with self._errors():
            self._db.execute("COMMIT")

    # Responses

    def _verified(self, row: tuple) -> Response:
        key, text, finish, prompt, completion, latency, created, reasoning, request, checksum = row
        if checksum is not None or self.version >= 2:  # schema 1 (read-only) rows carry none
            if checksum != row_checksum(key, request, text, finish, reasoning, prompt, completion):
                raise ChecksumMismatch(self.path, key)
        return Response(key, text, finish, prompt, completion, latency, created, reasoning)

    def get_many(self, keys: Iterable[str]) -> dict[str, Response]:
        """The verified responses of those ``keys`` that have one."""
        keys = list(dict.fromkeys(keys))
        columns = READ if self.version >= 2 else READ_V1
        found: dict[str, Response] = {}
        for chunk in _chunks(keys):
            for row in self._rows(f"SELECT {columns} FROM responses WHERE key IN ({_marks(len(chunk))})", chunk):
                found[row[0]] = self._verified(row)
        return found

    def get(self, key: str) -> Response | None:
        return self.get_many([key]).get(key)

    def put_many(self, answered: Sequence[tuple[ChatRequest, Completion]]) -> None:
        """Commit answers in one transaction; a trigger drops the leases on their keys with it.

        A key that already has a row keeps it (the first answer stays the answer).
        """
        now = time.time()
        rows = []
        for r, c in answered:
            checksum = row_checksum(
                r.key, r.canonical, c.text, c.finish_reason, c.reasoning, c.prompt_tokens, c.completion_tokens
            )
            rows.append(
                (r.key, r.canonical, r.item_id, r.sample, c.text, c.finish_reason)
                + (c.prompt_tokens, c.completion_tokens, c.latency_s, now, c.reasoning, checksum)
            )
        insert = f"INSERT OR IGNORE INTO responses ({COLUMNS}) VALUES ({_marks(12)})"
        if len(rows) == 1:
            self._write(insert, rows[0])  # one statement: its own transaction
            return
        with self._transaction():
            self._write(insert, rows, many=True)

    def put(self, request: ChatRequest, completion: Completion) -> None:
        self.put_many([(request, completion)])

    def count(self) -> int:
        return self._rows("SELECT COUNT(*) FROM responses")[0][0]

    def keys(self) -> set[str]:
        return {row[0] for row in self._rows("SELECT key FROM responses")}

    def present(self, keys: Iterable[str]) -> set[str]:
        """Those of ``keys`` that have a row (not verified: nothing of the row is served)."""
        keys = list(dict.fromkeys(keys))
        found: set[str] = set()
        for chunk in _chunks(keys):
            found.update(
                row[0] for row in self._rows(f"SELECT key FROM responses WHERE key IN ({_marks(len(chunk))})", chunk)
            )
        return found

    # Leases

    def lease(self, keys: Sequence[str], holder: str, ttl_s: float) -> dict[str, str]:
        """Try to lease ``keys`` for ``holder``: each gets LEASED, DONE (a row exists) or HELD
        (another live holder has it). Expired leases and leases of ended processes are taken over."""
        now, status = time.time(), {}
        with self._transaction():
            for chunk in _chunks(list(keys)):
                marks = _marks(len(chunk))
                done = {row[0] for row in self._rows(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)}
                held = {
                    key: (other, expires)
                    for key, other, expires in self._rows(
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
                self._write("INSERT OR REPLACE INTO leases VALUES (?, ?, ?)", take, many=True)
        return status

    def status(self, keys: Sequence[str]) -> dict[str, str]:
        """DONE, HELD (by a live, unexpired holder) or FREE for each key; reads only."""
        now, status = time.time(), {}
        for chunk in _chunks(list(keys)):
            marks = _marks(len(chunk))
            done = {row[0] for row in self._rows(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)}
            held = {
                key
                for key, other, expires in self._rows(
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
            return self._write("UPDATE leases SET expires = ? WHERE holder = ?", (time.time() + ttl_s, holder))

    def release(self, holder: str, keys: Iterable[str] | None = None) -> None:
        """Drop ``holder``'s leases (all of them, or those on ``keys``)."""
        with self._transaction():
            if keys is None:
                self._write("DELETE FROM leases WHERE holder = ?", (holder,))
            else:
                self._write("DELETE FROM leases WHERE key = ? AND holder = ?", [(k, holder) for k in keys], many=True)

    def leases(self) -> list[tuple[str, str, float]]:
        """(key, holder, expires) of every lease, e.g. the requests in flight when a job was killed."""
        return self._rows("SELECT key, holder, expires FROM leases")

    # Failures

    def record_failures(self, failed: Sequence[tuple[ChatRequest, str, int]], holder: str | None = None) -> None:
        """Record (request, reason, attempts) rows and drop ``holder``'s leases on them, in one transaction."""
        now = time.time()
        with self._transaction():
            self._write(
                "INSERT INTO failures (key, item_id, sample, request, reason, attempts, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.key, r.item_id, r.sample, r.canonical, reason, n, now) for r, reason, n in failed],
                many=True,
            )
            if holder is not None:
                self._write(
                    "DELETE FROM leases WHERE key = ? AND holder = ?",
                    [(r.key, holder) for r, _, _ in failed],
                    many=True,
                )

    def failures(self) -> list[Failure]:
        rows = self._rows("SELECT key, item_id, sample, reason, attempts FROM failures ORDER BY id")
        return [Failure(*row) for row in rows]

    def request_json(self, key: str) -> dict | None:
        """The request a row answers (the row verified first)."""
        columns = READ if self.version >= 2 else READ_V1
        rows = self._rows(f"SELECT {columns} FROM responses WHERE key = ?", (key,))
        if not rows:
            return None
        self._verified(rows[0])
        return json.loads(rows[0][8])

    def usage(self, keys: Iterable[str]) -> dict[str, tuple[dict, int | None, int | None]]:
        """Key -> (request, prompt tokens, completion tokens) of those ``keys`` that have a row,
        each row verified (what a cost table bills)."""
        keys = list(dict.fromkeys(keys))
        columns = READ if self.version >= 2 else READ_V1
        out = {}
        for chunk in _chunks(keys):
            for row in self._rows(f"SELECT {columns} FROM responses WHERE key IN ({_marks(len(chunk))})", chunk):
                response = self._verified(row)
                out[row[0]] = (json.loads(row[8]), response.prompt_tokens, response.completion_tokens)
        return out
