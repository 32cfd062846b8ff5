"""The publication space, outside the repository: input store, kept databases, journal, lock.

Layout of `home()` (`$OBSERVATOIRE_HOME`, else `$XDG_DATA_HOME/observatoire`, else
`~/.local/share/observatoire`):

- `entrees/ab/abcdef…` — every published file, content-addressed by its SHA-256 (read-only once
  written): any published version can be rebuilt exactly from these;
- `versions/000012.duckdb` — the databases of the last `keep_versions()` publications; the served
  database (`OBSERVATOIRE_DB`) is a symbolic link to one of them, swapped atomically;
- `journal.sqlite` — the `publications` journal (SQLite: each update is one transaction, so a
  killed process leaves either the previous or the next state, never half of one);
- `publication.lock` — held (flock) by the one process publishing; released by the kernel when it
  dies, even by `kill -9`;
- `comptes.json` — local manager accounts (see `etl/accounts.py`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import sqlite3
import tempfile
from pathlib import Path

HOME_ENV = "OBSERVATOIRE_HOME"
KEEP_ENV = "OBSERVATOIRE_KEEP_VERSIONS"
#: Databases kept for « Revenir à cette version » (the served one is always kept in addition).
DEFAULT_KEEP = 5

_SHA = re.compile(r"^[0-9a-f]{64}$")

#: Outcomes of a journal row.
EN_COURS, BASCULE, REUSSIE, ECHOUEE = "en cours", "bascule", "réussie", "échouée"

JOURNAL_DDL = """
CREATE TABLE IF NOT EXISTS publications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    action TEXT NOT NULL,            -- publication, retrait, retour, base
    started_at TEXT NOT NULL,        -- ISO 8601, local time of the server
    finished_at TEXT,
    who TEXT NOT NULL,
    status TEXT NOT NULL,            -- en cours, bascule, réussie, échouée
    pid INTEGER,
    mode TEXT,                       -- incrémentale (étapes relancées) or complète
    steps TEXT,                      -- JSON list of the steps run
    files_added TEXT,                -- JSON [{name, sha256, original}]
    files_replaced TEXT,             -- JSON [{name, sha256, previous}]
    files_withdrawn TEXT,            -- JSON [{name, sha256}]
    manifest TEXT,                   -- JSON {name: {sha256, original, who, at, kind}} after this row
    version INTEGER,                 -- the kept database served after this row (versions/NNNNNN.duckdb)
    rollback_of INTEGER,             -- for « retour »: the version put back
    duration_s REAL,
    row_counts TEXT,                 -- JSON {table: [before, after]}
    key_figures TEXT,                -- JSON [{indicateur, territoire, avant, apres, texte}]
    checksums TEXT,                  -- JSON {table: [rows, md5]} of the database served after
    report TEXT,                     -- why it failed, every problem listed
    progress TEXT                    -- last step started (shown while it runs)
);
"""


class PublicationRunning(RuntimeError):
    """Another publication holds the lock."""


def home() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "observatoire"


def keep_versions() -> int:
    value = os.environ.get(KEEP_ENV)
    return max(1, int(value)) if value and value.strip().isdigit() else DEFAULT_KEEP


def now() -> str:
    return dt.datetime.now().replace(microsecond=0).isoformat()


class Store:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else home()
        self.blobs = self.root / "entrees"
        self.versions = self.root / "versions"
        self.journal_path = self.root / "journal.sqlite"
        self.lock_path = self.root / "publication.lock"
        self.work = self.root / "travail"

    def ensure(self) -> "Store":
        for folder in (self.root, self.blobs, self.versions, self.work):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self.journal() as con:
            con.executescript(JOURNAL_DDL)
        return self

    # -- content-addressed inputs ------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        """Where a checksum's content lives; anything but 64 hex digits is refused (no path games)."""
        if not isinstance(sha256, str) or not _SHA.match(sha256):
            raise ValueError(f"empreinte SHA-256 invalide : {sha256!r}")
        path = self.blobs / sha256[:2] / sha256
        if self.blobs.resolve() not in path.resolve().parents:
            raise ValueError(f"chemin hors du dépôt : {path}")
        return path

    def put(self, data: bytes) -> str:
        import hashlib

        sha = hashlib.sha256(data).hexdigest()
        path = self.blob_path(sha)
        if path.exists():
            return sha
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".in-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o400)
        os.replace(tmp, path)
        return sha

    def read(self, sha256: str) -> bytes:
        return self.blob_path(sha256).read_bytes()

    def version_path(self, version: int) -> Path:
        return self.versions / f"{int(version):06d}.duckdb"

    def kept_versions(self) -> list[int]:
        return sorted(int(p.stem) for p in self.versions.glob("[0-9]*.duckdb") if p.stem.isdigit())

    # -- journal -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def journal(self):
        con = sqlite3.connect(self.journal_path, timeout=30, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=FULL")
            yield con
        finally:
            con.close()

    def start_row(self, action: str, who: str, **fields) -> int:
        fields = {"action": action, "who": who, "started_at": now(), "status": EN_COURS, "pid": os.getpid(), **fields}
        with self.journal() as con:
            cur = con.execute(
                f"INSERT INTO publications ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
                [_sql(v) for v in fields.values()],
            )
            return int(cur.lastrowid)

    def update_row(self, row_id: int, **fields) -> None:
        with self.journal() as con:
            con.execute(
                f"UPDATE publications SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                [*(_sql(v) for v in fields.values()), row_id],
            )

    def row(self, row_id: int) -> dict | None:
        rows = self.rows(where="id = ?", params=[row_id])
        return rows[0] if rows else None

    def rows(self, where: str = "1 = 1", params: list | None = None) -> list[dict]:
        if not self.journal_path.exists():
            return []
        with self.journal() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(f"SELECT * FROM publications WHERE {where} ORDER BY id", params or []).fetchall()
        return [_decoded(dict(r)) for r in rows]

    # -- the one publication at a time ---------------------------------------------------------

    @contextlib.contextmanager
    def lock(self):
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PublicationRunning(
                    "une publication est déjà en cours : attendre qu'elle se termine (voir le journal), "
                    "puis recommencer"
                ) from None
            yield

    def busy(self) -> bool:
        """True while a publication holds the lock (checked without taking it for long)."""
        if not self.lock_path.exists():
            return False
        with open(self.lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


_JSON_COLUMNS = (
    "steps",
    "files_added",
    "files_replaced",
    "files_withdrawn",
    "manifest",
    "row_counts",
    "key_figures",
    "checksums",
)


def _sql(value):
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _decoded(row: dict) -> dict:
    for column in _JSON_COLUMNS:
        if row.get(column):
            row[column] = json.loads(row[column])
    return row


def served_version(store: Store, db_path: Path) -> int | None:
    """The kept version the served path links to (None: a database built outside publications)."""
    db_path = Path(db_path)
    if not db_path.is_symlink():
        return None
    target = Path(os.readlink(db_path))
    if not target.is_absolute():
        target = db_path.parent / target
    if target.resolve().parent != store.versions.resolve() or not target.stem.isdigit():
        return None
    return int(target.stem)


def point_served_at(db_path: Path, target: Path) -> None:
    """Atomic swap: the served path becomes a link to `target` in one `rename`. Readers holding the
    previous file keep reading it; `query.db.Database` notices the new inode at its next query."""
    db_path = Path(db_path)
    tmp = db_path.with_name(f".{db_path.name}.bascule-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(Path(target).resolve(), tmp)
    os.replace(tmp, db_path)
