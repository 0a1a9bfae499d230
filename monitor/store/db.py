"""SQLite connections, transactions and the single-writer lock.

Every thread gets its own connection (SQLite connections must not be shared across threads
mid-transaction); WAL lets readers run while one writer writes. Write transactions start with
BEGIN IMMEDIATE so that two writers queue on the busy timeout instead of failing half-way, and
nest as savepoints.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlite_utils import Database

from ..errors import LockedError, StoreError

BUSY_TIMEOUT_MS = 30_000


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def loads(text: str | bytes | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


class Connections:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.memory = self.path == ":memory:"
        if not self.memory:
            parent = Path(self.path).expanduser().resolve().parent
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the database folder {parent}: {exc.strerror}") from None
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []

    def conn(self) -> sqlite3.Connection:
        if self.memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def db(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None or db.conn is not self.conn():
            db = Database(self.conn())
            self._local.db = db
        return db

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not self.memory:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes in WAL mode
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from None
        self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        if conn.in_transaction:
            name = f"sp_{threading.get_ident()}_{id(conn)}_{os.urandom(4).hex()}"
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                    conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            else:
                conn.execute(f"RELEASE SAVEPOINT {name}")
            return
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def close(self) -> None:
        for conn in self._all:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._all.clear()
        self._local = threading.local()
        self._shared = None


class WriterLock:
    """An exclusive lock file beside the database: one daemon per database.

    flock() is released by the kernel when the process dies, so a kill -9 never leaves a
    stale lock behind.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(str(db_path) + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another monitor process (pid {holder}) is already running on {str(self.path)[:-5]}; "
                "stop it first, or point this one at another database with --db"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "WriterLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
