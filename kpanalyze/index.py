"""FactIndex: the facts of every source file of a tree, cached in SQLite.

One database per tree identity, under the user's cache directory (never inside the
tree, which may be read-only). A build stats every source, re-extracts only files whose
content hash changed (or whose extractor changed), extracts in parallel worker processes
and writes from the main process in transactions of a few hundred files: a file's fact
rows and its `files` row commit together, so a killed build leaves a consistent database
that the next build completes. After extraction, the link step expands macro uses over
the macro definitions of the whole tree (`parsing.macros.expand`) and stores the
generated functions and registrations under the pseudo-file `<macro>`.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import os
import sqlite3
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from . import facts as F
from .errors import InputError
from .tree import KernelTree, SourceFile, read_source

SCHEMA_VERSION = 1
GENERATED = "<macro>"  # files.path of the rows produced by the link step
BATCH_FILES = 256  # files per transaction
BATCH_ROWS = 200_000  # ... or fewer when their facts are this many rows
CHUNK_FILES = 32  # files per worker task
CHUNK_BYTES = 4 << 20  # ... or fewer when they hold this many bytes
INLINE_BYTES = 2 << 20  # below this much work, extract in this process (no pool start-up)
_IN_CHUNK = 500  # names per `IN (...)` of the batch queries

# object_macros holds every #define'd name of every file: 4.9 million in 6.1, 3.4 million of
# them AMD register names averaging 58 characters. Stored as 64-bit hashes, clustered by
# file (fast whole-file deletes): ~25 bytes a name instead of ~150 with text and indexes.
_HASHED = "object_macros"
# Columns worth an index (besides file_id everywhere).
_NAME_INDEXES = {
    "functions": ("name",), "registrations": ("name",), "asm_symbols": ("name",),
    "macro_defs": ("name",), "macro_uses": ("name",), "refs": ("name",), "calls": ("callee",),
    "data": ("name",), "exports": ("name",), "object_macros": ("name_hash",),
}
# The extractor modules of each kind; every other file of parsing/ counts as shared
# (with facts.py, tsparse.py and queries/). The link step parses expansions with the C one.
_KIND_MODULES = {"c": ("c_extract.py",), "asm": ("asm_extract.py",), "kbuild": ("kbuild.py",),
                 "kconfig": ("kconfig.py",), "link": ("macros.py", "c_extract.py")}


@dataclass(frozen=True)
class BuildStats:
    files_seen: int
    extracted: int  # files whose facts were (re)computed
    reused: int  # files whose cached facts were kept (same stat, or same hash)
    removed: int  # files gone from the tree whose facts were deleted
    seconds: float
    warnings: list[str] = field(default_factory=list)  # "path[:line]: message", this build only
    rehashed: int = 0  # stat changed but content hash did not
    linked: bool = False  # the macro link step ran
    generated: int = 0  # functions + registrations produced by the link step (when linked)
    timings: dict[str, float] = field(default_factory=dict)  # seconds: scan, extract, indexes, link


# ---------------------------------------------------------------- extraction (worker side)

def extract_file(kind: str, path: str, data: bytes, **asm_context) -> F.FileFacts:
    """Run the extractor of `kind` on one file's bytes (`asm_context`: see _extract_asm)."""
    if kind == "c":
        from .parsing.c_extract import extract_c
        return extract_c(path, data)
    if kind == "asm":
        return _extract_asm(path, data, **asm_context)
    if kind == "kbuild":
        from .parsing.kbuild import extract_kbuild
        return extract_kbuild(path, data)
    if kind == "kconfig":
        from .parsing.kconfig import extract_kconfig
        return extract_kconfig(path, data)
    raise ValueError(f"unknown source kind {kind!r}")


# Hand .S files the macros of the headers they #include (DECLARE_IDTENTRY and friends
# become asm macro invocations in entry_64.S). False: extract each .S on its own.
ASM_MACRO_CONTEXT = True
# tree path -> AsmHeader | None, shared by the .S files of one build in one process;
# emptied at the start of every build (before workers fork).
_HEADER_CACHE: dict = {}


def _extract_asm(path: str, data: bytes, read: Callable[[str], bytes | None] | None = None,
                 deps: set[str] | None = None) -> F.FileFacts:
    """extract_asm with the #include closure of the file as macro context. `read(path)`
    reads a tree file (None: no context); every tree path the include resolution looks
    at, found or not, is added to `deps`, so the index re-extracts this file when one of
    them changes, appears or goes."""
    from .parsing import asm_extract
    if read is None or not ASM_MACRO_CONTEXT:
        return asm_extract.extract_asm(path, data)
    asked: set[str] = set()
    ctx = asm_extract.build_asm_context(path, data, asm_extract.arch_of_path(path), read,
                                        _RecordingCache(_HEADER_CACHE, asked))
    if deps is not None:
        deps.update(p for p in asked if p != path)
    return asm_extract.extract_asm(path, data, ctx)


class _RecordingCache(dict):
    """The header cache handed to build_asm_context: a view of the shared cache that
    notes every path looked up (the shared cache hides repeated reads)."""

    def __init__(self, shared: dict, asked: set[str]):
        super().__init__()
        self._shared, self._asked = shared, asked

    def __contains__(self, p) -> bool:
        self._asked.add(p)
        return p in self._shared

    def __getitem__(self, p):
        self._asked.add(p)
        return self._shared[p]

    def get(self, p, default=None):
        self._asked.add(p)
        return self._shared.get(p, default)

    def __setitem__(self, p, v) -> None:
        self._asked.add(p)
        self._shared[p] = v


def name_hash(name: str) -> int:
    """A stable signed 64-bit hash of a name (SQLite's INTEGER range)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8", "surrogateescape"), digest_size=8).digest(),
                          "little", signed=True)


def expand_macros(uses: list[F.MacroUse], defs: dict[str, list[F.MacroDef]]):
    """The link step: (generated FunctionDefs, generated Registrations)."""
    from .parsing.macros import expand
    return expand(uses, defs, arch=None)


def _preload(kinds: Iterable[str]) -> None:
    """Import the extractors once, before the workers fork: they inherit them (no import
    per worker), and run the code the fingerprints just hashed, not a later edit of it."""
    import importlib
    for kind in kinds:
        for module in _KIND_MODULES.get(kind, ()):
            try:
                importlib.import_module(f"{__package__}.parsing.{module[:-3]}")
            except Exception:  # noqa: BLE001 - reported per file by the workers
                pass


def _pack(ff: F.FileFacts, relpath: str, fid: int) -> dict:
    """FileFacts as plain tuples (cheap to pickle back to the writer). A `path` equal to
    the file's own path is stored as NULL (the files row has it): a third of the bytes."""
    out = {}
    for table in F.FACT_TYPES:
        items = getattr(ff, table)
        if items:
            out[table] = list(map(_ROW_MAKERS[table](relpath, fid), items))
    if ff.exports:
        out["exports"] = [(fid, n) for n in sorted(set(ff.exports))]
    if ff.object_macros:
        out[_HASHED] = [(fid, h) for h in sorted({name_hash(n) for n in ff.object_macros})]
    return out


def _work_one(root: str, max_size: int, relpath: str, kind: str, old_sha1: str | None, fid: int) -> tuple:
    """(relpath, status, sha1, packed facts, parse_errors, warnings, unavailable-kind, deps)."""
    data, warning = read_source(root, relpath, max_size)
    if data is None:
        return relpath, "skip", "-", None, 0, [warning], None, ()
    sha1 = hashlib.sha1(data).hexdigest()
    if sha1 == old_sha1:
        return relpath, "same", sha1, None, 0, [], None, ()
    deps: set[str] = set()
    try:
        if kind == "asm":
            ff = extract_file(kind, relpath, data, read=lambda p: read_source(root, p, max_size)[0], deps=deps)
        else:
            ff = extract_file(kind, relpath, data)
    except ImportError as e:
        # An extractor not written yet: no facts, retried by the next build.
        return relpath, "fail", "", None, 0, [], f"{kind} extractor unavailable ({e})", ()
    except Exception as e:  # one bad file must not stop the build; retried next time
        return (relpath, "fail", "", None, 0, [f"{relpath}: {kind} extractor failed ({type(e).__name__}: {e})"],
                None, ())
    return (relpath, "facts", sha1, _pack(ff, relpath, fid), int(ff.parse_errors or 0), list(ff.warnings), None,
            sorted(deps))


def _work_chunk(task: tuple) -> list[tuple]:
    root, max_size, items = task
    return [_work_one(root, max_size, *item) for item in items]


# ---------------------------------------------------------------- schema

_SQL_TYPES = {"str": "TEXT", "int": "INTEGER", "bool": "INTEGER", "tuple[str, ...]": "TEXT"}


def _columns(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def _row_maker(cls):
    """(file_id, *fact_to_row(fact)) for one class, fast (it runs in the workers for every
    fact of the tree), with the path equal to the file's own elided to None."""
    names = _columns(cls)
    get = operator.attrgetter(*names)
    joined = [i for i, f in enumerate(fields(cls)) if str(f.type).startswith("tuple")]
    pos = names.index("path") if "path" in names else None

    def for_file(relpath: str, fid: int):
        def row(fact) -> tuple:
            r = get(fact)
            if not joined and (pos is None or r[pos] != relpath):
                return (fid, *r)
            r = [fid, *r]
            for i in joined:
                r[i + 1] = "\x1f".join(r[i + 1])
            if pos is not None and r[pos + 1] == relpath:
                r[pos + 1] = None
            return tuple(r)
        return row
    return for_file


_ROW_MAKERS = {t: _row_maker(c) for t, c in F.FACT_TYPES.items()}


def _select(table: str) -> str:
    """SELECT of a fact table's fields in dataclass order, the elided path restored.
    The table is aliased t, the files table f (WHERE clauses qualify with t.)."""
    cols = ['COALESCE(t."path", f.path)' if c == "path" else f't."{c}"' for c in _columns(F.FACT_TYPES[table])]
    return f'SELECT {", ".join(cols)} FROM "{table}" t JOIN files f ON f.id = t.file_id'


def _schema_sql() -> list[str]:
    stmts = [
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)",
        # fp: fingerprint of the extractor that produced the rows; stale: a file it
        # depends on (an #include of a .S) changed, so it must be extracted again.
        "CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, sha1 TEXT, size INTEGER,"
        " mtime_ns INTEGER, kind TEXT, parse_errors INTEGER, fp TEXT, stale INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE warnings(file_id INTEGER NOT NULL, message TEXT)",
        # every tree path a file's extraction looked at (found or not): the headers of a .S
        "CREATE TABLE deps(file_id INTEGER NOT NULL REFERENCES files(id), dep TEXT NOT NULL)",
        "CREATE INDEX ix_deps_dep ON deps(dep)",  # from the start: used during builds
    ]
    for table, cls in F.FACT_TYPES.items():
        cols = ", ".join(f'"{f.name}" {_SQL_TYPES.get(str(f.type), "TEXT")}' for f in fields(cls))
        stmts.append(f'CREATE TABLE "{table}"(file_id INTEGER NOT NULL REFERENCES files(id), {cols})')
    stmts.append('CREATE TABLE exports(file_id INTEGER NOT NULL REFERENCES files(id), name TEXT)')
    stmts.append(f'CREATE TABLE "{_HASHED}"(file_id INTEGER NOT NULL REFERENCES files(id), name_hash INTEGER NOT NULL, '
                 'PRIMARY KEY(file_id, name_hash)) WITHOUT ROWID')
    return stmts


def _index_sql() -> list[str]:
    out = []
    for table in (*F.FACT_TYPES, "exports", "warnings", "deps"):  # _HASHED: its primary key
        out.append(f'CREATE INDEX IF NOT EXISTS "ix_{table}_file" ON "{table}"(file_id)')
    for table, cols in _NAME_INDEXES.items():
        for col in cols:
            out.append(f'CREATE INDEX IF NOT EXISTS "ix_{table}_{col}" ON "{table}"("{col}")')
    return out


def _schema_id() -> str:
    # The tables follow facts.py: a new field there means a new schema (and a rebuild).
    text = "\n".join([str(SCHEMA_VERSION), *_schema_sql(), *_index_sql()])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _fingerprints() -> dict[str, str]:
    """A hash per kind of the code that extracts it, so a changed extractor re-extracts
    its files (and only those): own module + shared parsing helpers + queries."""
    pkg = Path(__file__).resolve().parent
    parsing = pkg / "parsing"
    own = {m for mods in _KIND_MODULES.values() for m in mods}
    shared: list[Path] = [pkg / "facts.py", pkg / "tsparse.py"]
    if parsing.is_dir():
        shared += sorted(p for p in parsing.rglob("*.py") if p.name not in own or p.parent != parsing)
    for qdir in (pkg.parent / "queries", pkg / "queries"):
        if qdir.is_dir():
            shared += sorted(qdir.rglob("*.scm"))
    base = hashlib.sha1()
    for p in shared:
        # By name and content, not location: a source checkout and an installed copy of
        # the same code (queries/ vs kpanalyze/queries/) must give the same fingerprint.
        base.update(p.name.encode() + b"\0" + _read_or_empty(p) + b"\0")
    out = {}
    for kind, modules in _KIND_MODULES.items():
        h = base.copy()
        for module in modules:
            h.update(module.encode() + b"\0" + _read_or_empty(parsing / module) + b"\0")
        if kind == "asm":
            h.update(b"macro-context" if ASM_MACRO_CONTEXT else b"alone")
        out[kind] = h.hexdigest()[:16]
    return out


def _read_or_empty(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError:
        return b""


def default_cache_dir() -> Path:
    """$KPANALYZE_CACHE_DIR, else the platform's user cache dir for kpanalyze."""
    env = os.environ.get("KPANALYZE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs
    return Path(platformdirs.user_cache_dir("kpanalyze"))


# ---------------------------------------------------------------- the index

class FactIndex:
    """The facts of one kernel tree, cached in SQLite and queried by name.

    Open it, call build() (cheap when nothing changed), then query. Every query returns
    the frozen facts of kpanalyze.facts."""

    def __init__(self, tree: KernelTree | Path | str, cache_dir: Path | str | None = None):
        self.tree = tree if isinstance(tree, KernelTree) else KernelTree(tree)
        cdir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        cdir = cdir.resolve()
        root = self.tree.root
        if cdir == root or root in cdir.parents:
            raise InputError(f"{cdir}: the cache directory must not be inside the kernel tree {root}; "
                             "set KPANALYZE_CACHE_DIR")
        try:
            cdir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InputError(f"{cdir}: cannot create the cache directory ({e.strerror or e}); "
                             "set KPANALYZE_CACHE_DIR") from None
        if not os.access(cdir, os.W_OK | os.X_OK):
            raise InputError(f"{cdir}: cache directory is not writable; set KPANALYZE_CACHE_DIR")
        self.cache_dir = cdir
        self.path = cdir / f"index-{self.tree.identity()}.sqlite"
        self._conn: sqlite3.Connection | None = None
        self._open()

    @classmethod
    def open(cls, tree: KernelTree | Path | str, cache_dir: Path | str | None = None) -> "FactIndex":
        """The index of `tree` in the cache (created empty if new; call build() to fill it)."""
        return cls(tree, cache_dir)

    # -- connection -------------------------------------------------------

    def _unreadable(self, e: BaseException) -> InputError:
        return InputError(f"{self.path}: unreadable cache ({e}); delete it or set KPANALYZE_CACHE_DIR")

    @contextmanager
    def _guard(self):
        """Turn SQLite failures into the one user-facing error type."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            msg = str(e).lower()
            if "readonly" in msg or "unable to open" in msg or "disk i/o" in msg or "locked" in msg:
                raise InputError(f"{self.path}: cannot write the cache ({e}); set KPANALYZE_CACHE_DIR") from None
            raise self._unreadable(e) from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)  # explicit BEGIN/COMMIT
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: consistent after a kill
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MB
        return conn

    def _open(self) -> None:
        with self._guard(), self._build_lock():  # two first runs must not both create the tables
            try:
                conn = self._connect()
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            except sqlite3.DatabaseError as e:
                raise self._unreadable(e) from None
            schema = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
                schema = row[0] if row else None
            if tables and schema != _schema_id():
                # Another layout (older kpanalyze): start over.
                conn.close()
                self._delete_db_files()
                conn = self._connect()
                tables = set()
            if not tables:
                self._create_schema(conn)
            self._conn = conn

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN")
        for stmt in _schema_sql():
            conn.execute(stmt)
        conn.executemany("INSERT INTO meta VALUES (?, ?)",
                         [("schema", _schema_id()), ("tree", str(self.tree.root)),
                          ("version", self.tree.version), ("link_dirty", "0"), ("link_fp", "")])
        conn.execute("COMMIT")

    def _delete_db_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass
            except OSError as e:
                raise InputError(f"{self.path}: cannot replace the outdated cache ({e.strerror or e}); "
                                 "delete it or set KPANALYZE_CACHE_DIR") from None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "FactIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise InputError(f"{self.path}: index is closed")
        return self._conn

    def _meta(self, key: str, default: str = "") -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    @contextmanager
    def _build_lock(self):
        """One builder per database at a time (another kpanalyze may share the cache)."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        with open(f"{self.path}.lock", "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # -- build ------------------------------------------------------------

    def build(self, *, workers: int | None = None, progress: bool = False) -> BuildStats:
        """Bring the cache up to date with the tree; returns what it did."""
        with self._guard(), self._build_lock():
            return self._build(workers or os.cpu_count() or 1, progress)

    def _build(self, workers: int, progress: bool) -> BuildStats:
        t0 = time.monotonic()
        conn = self.conn
        fps = _fingerprints()
        tree = self.tree
        nwarn = len(tree.warnings)
        sources = list(tree.scan())
        timings = {"scan": time.monotonic() - t0}
        warnings = list(tree.warnings[nwarn:])

        known, todo, reused, removed = self._plan(sources, fps)
        outdated = sum(1 for sf, old in todo if old is None and sf.path in known)
        if outdated and outdated * 2 >= len(known):
            # Most cached facts are outdated (a new extractor): starting from an empty
            # database beats deleting millions of rows one file at a time.
            self._reset()
            conn = self.conn
            known, todo, reused, removed = self._plan(sources, fps)

        if removed or any(sf.path in known for sf, _ in todo):
            self._ensure_indexes()  # deletions by file_id need them (e.g. after a killed cold build)
        writer = _Writer(conn, {p: (k[0], k[1]) for p, k in known.items()}, fps)
        if removed:
            conn.execute("BEGIN")
            for path, fid, _kind in removed:
                writer.delete_rows(fid)
                writer.mark_dependents(path)
                conn.execute("DELETE FROM files WHERE id=?", (fid,))
            writer.mark_link()
            conn.execute("COMMIT")

        _preload({sf.kind for sf, _ in todo})
        unavailable: set[str] = set()
        _HEADER_CACHE.clear()  # headers may have changed since the last build in this process
        try:
            self._extract_all(todo, workers, progress, writer, warnings, unavailable)
            writer.flush()
            # Second round: the .S files whose #included headers changed in the first.
            by_path = {sf.path: sf for sf in sources}
            again = [(by_path[p], None) for (p,) in conn.execute("SELECT path FROM files WHERE stale=1")
                     if p in by_path]
            if again:
                self._extract_all(again, workers, progress, writer, warnings, unavailable)
                writer.flush()
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        warnings.extend(f"{msg}; its files carry no facts" for msg in sorted(unavailable))

        t1 = time.monotonic()
        timings["extract"] = t1 - t0 - timings["scan"]
        self._ensure_indexes()  # after the bulk load: cheaper than keeping them up to date
        t2 = time.monotonic()
        timings["indexes"] = t2 - t1
        linked, generated = False, 0
        if self._meta("link_dirty") == "1" or self._meta("link_fp") != fps["link"]:
            linked, generated = self._link(fps["link"], warnings)
        conn.execute("PRAGMA optimize")
        timings["link"] = time.monotonic() - t2
        return BuildStats(
            files_seen=len(sources), extracted=writer.extracted, reused=reused + writer.rehashed,
            removed=len(removed), seconds=round(time.monotonic() - t0, 3), warnings=warnings,
            rehashed=writer.rehashed, linked=linked, generated=generated,
            timings={k: round(v, 3) for k, v in timings.items()})

    def _plan(self, sources: list[SourceFile], fps: dict[str, str]):
        """(known files, files to read with their stored hash or None, reused count, removed)."""
        known = {path: (fid, sha1, size, mtime, kind, fp, stale) for fid, path, sha1, size, mtime, kind, fp, stale in
                 self.conn.execute("SELECT id, path, sha1, size, mtime_ns, kind, fp, stale FROM files "
                                   "WHERE kind != 'generated'")}
        todo: list[tuple[SourceFile, str | None]] = []
        reused = 0
        for sf in sources:
            k = known.get(sf.path)
            if k is not None and k[4] == sf.kind and k[5] == fps[sf.kind] and k[1] and not k[6]:
                if k[2] == sf.size and k[3] == sf.mtime_ns:
                    reused += 1
                    continue
                todo.append((sf, k[1]))  # stat changed: the worker compares hashes
            else:
                todo.append((sf, None))
        present = {sf.path for sf in sources}
        removed = [(path, k[0], k[4]) for path, k in known.items() if path not in present]
        return known, todo, reused, removed

    def _reset(self) -> None:
        """Replace the database with an empty one (same schema)."""
        self.close()
        self._delete_db_files()
        self._conn = None
        conn = self._connect()
        self._create_schema(conn)
        self._conn = conn

    def _extract_all(self, todo, workers, progress, writer, warnings, unavailable) -> None:
        if not todo:
            return
        root, max_size = str(self.tree.root), self.tree.max_size
        by_path = {sf.path: sf for sf, _ in todo}
        tasks, items, nbytes = [], [], 0
        for sf, old in todo:
            items.append((sf.path, sf.kind, old, writer.file_id(sf.path)))
            nbytes += min(sf.size, max_size)
            if len(items) >= CHUNK_FILES or nbytes >= CHUNK_BYTES:
                tasks.append((root, max_size, items))
                items, nbytes = [], 0
        if items:
            tasks.append((root, max_size, items))
        total_bytes = sum(min(sf.size, max_size) for sf, _ in todo)

        def consume(results):
            for res in results:
                relpath, _status, _sha1, _packed, _pe, file_warnings, unavail, _deps = res
                warnings.extend(file_warnings)
                if unavail:
                    unavailable.add(unavail)
                writer.add(by_path[relpath], res)
                yield min(by_path[relpath].size, max_size)

        with _Progress(progress and sys.stderr.isatty(), len(todo), total_bytes) as bar:
            if workers <= 1 or len(tasks) == 1 or total_bytes < INLINE_BYTES:
                for _root, _max, items in tasks:
                    for item in items:  # one file at a time: each result is written as it comes
                        bar.advance(list(consume([_work_one(root, max_size, *item)])))
                return
            import multiprocessing as mp
            from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
            from concurrent.futures.process import BrokenProcessPool
            # fork: workers share the parent's loaded modules; with fork the executor starts
            # them all before its own thread, and before the progress bar's thread below.
            ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
            ex = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx)
            try:
                queue = iter(tasks)
                # A bounded window of tasks in flight: results are written and dropped as they come.
                pending = {ex.submit(_work_chunk, t) for t in itertools.islice(queue, 4 * workers)}
                bar.start()
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        bar.advance(list(consume(fut.result())))
                        nxt = next(queue, None)
                        if nxt is not None:
                            pending.add(ex.submit(_work_chunk, nxt))
            except BrokenProcessPool as e:
                raise InputError(f"{self.tree.root}: an extraction worker died ({e}); the files indexed so far "
                                 "are kept; retry with fewer workers or more memory") from None
            finally:
                ex.shutdown(wait=True, cancel_futures=True)

    def _ensure_indexes(self) -> None:
        conn = self.conn
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        missing = [s for s in _index_sql() if s.split('"')[1] not in have]
        if missing:
            conn.execute("BEGIN")
            for stmt in missing:
                conn.execute(stmt)
            conn.execute("COMMIT")

    def _link(self, link_fp: str, warnings: list[str]) -> tuple[bool, int]:
        """Expand macro uses over the tree's macro definitions; replace the generated rows."""
        conn = self.conn
        defs: dict[str, list[F.MacroDef]] = {}
        for row in conn.execute(_select("macro_defs")):
            d = F.fact_from_row(F.MacroDef, row)
            defs.setdefault(d.name, []).append(d)
        # A use can only expand when some file defines the macro.
        uses = [F.fact_from_row(F.MacroUse, row) for row in conn.execute(
            _select("macro_uses") + " WHERE t.name IN (SELECT name FROM macro_defs) ORDER BY t.rowid")]
        try:
            funcs, regs = expand_macros(uses, defs)
        except ImportError as e:
            warnings.append(f"link step skipped: macro expander unavailable ({e})")
            return False, 0
        except Exception as e:
            warnings.append(f"link step failed ({type(e).__name__}: {e}); "
                            "macro-generated facts are stale or missing")
            return False, 0
        conn.execute("BEGIN")
        row = conn.execute("SELECT id FROM files WHERE path=?", (GENERATED,)).fetchone()
        if row:
            gid = row[0]
            conn.execute("DELETE FROM functions WHERE file_id=?", (gid,))
            conn.execute("DELETE FROM registrations WHERE file_id=?", (gid,))
        else:
            gid = conn.execute("INSERT INTO files(path, sha1, size, mtime_ns, kind, parse_errors, fp) "
                               "VALUES (?, '', 0, 0, 'generated', 0, '')", (GENERATED,)).lastrowid
        for table, items in (("functions", funcs), ("registrations", regs)):
            cls = F.FACT_TYPES[table]
            ph = ", ".join("?" * (len(fields(cls)) + 1))
            conn.executemany(f'INSERT INTO "{table}" VALUES ({ph})', ((gid, *F.fact_to_row(x)) for x in items))
        conn.execute("UPDATE meta SET value='0' WHERE key='link_dirty'")
        conn.execute("UPDATE meta SET value=? WHERE key='link_fp'", (link_fp,))
        conn.execute("COMMIT")
        return True, len(funcs) + len(regs)

    # -- queries ----------------------------------------------------------

    def _facts(self, table: str, where: str = "", params: Sequence = (), order: bool = True) -> list:
        cls = F.FACT_TYPES[table]
        cols = _columns(cls)
        sql = _select(table)
        if where:
            sql += f" WHERE {where}"
        if order:  # by path, line (positions in the SELECT)
            sql += " ORDER BY " + ", ".join(str(cols.index(c) + 1) for c in ("path", "line") if c in cols)
        with self._guard():
            return [F.fact_from_row(cls, r) for r in self.conn.execute(sql, params)]

    def _many(self, table: str, col: str, names: Iterable[str]) -> dict[str, list]:
        names = list(dict.fromkeys(names))
        out: dict[str, list] = {n: [] for n in names}
        for i in range(0, len(names), _IN_CHUNK):
            chunk = names[i:i + _IN_CHUNK]
            where = f't."{col}" IN ({", ".join("?" * len(chunk))})'
            for fact in self._facts(table, where, chunk):
                out[getattr(fact, col)].append(fact)
        return out

    def functions(self, name: str) -> list[F.FunctionDef]:
        """Definitions of a C function (written out or generated by a macro), by path/line."""
        return self._facts("functions", "t.name=?", (name,))

    def functions_many(self, names: Iterable[str]) -> dict[str, list[F.FunctionDef]]:
        return self._many("functions", "name", names)

    def function_names(self, arch: str | None = None, prefix: str = "") -> list[str]:
        """Distinct names of C functions and assembler code labels, sorted; with `arch`, only
        those defined outside arch/ or under arch/<arch>/; with `prefix`, only names starting
        with it (an index range). For expanding globs and regexes."""
        conds, params = [], []
        if prefix:
            conds.append("t.name >= ? AND t.name < ?")
            params += [prefix, prefix + "\U0010ffff"]
        if arch is not None:
            pre = f"arch/{arch}/"
            conds.append("(substr(COALESCE(t.path, f.path), 1, 5) != 'arch/' "
                         "OR substr(COALESCE(t.path, f.path), 1, ?) = ?)")
            params += [len(pre), pre]
        where = " AND ".join(conds)
        sql = (f"SELECT t.name FROM functions t JOIN files f ON f.id=t.file_id {'WHERE ' + where if where else ''} "
               f"UNION SELECT t.name FROM asm_symbols t JOIN files f ON f.id=t.file_id WHERE t.is_function"
               f"{' AND ' + where if where else ''} ORDER BY 1")
        with self._guard():
            return [r[0] for r in self.conn.execute(sql, params + params)]

    def functions_with_keyword(self, keyword: str) -> list[F.FunctionDef]:
        """Functions whose keywords include `keyword` exactly (e.g. "noinstr", "__kprobes")."""
        return self._facts("functions", "instr(char(31) || t.keywords || char(31), char(31) || ? || char(31)) > 0",
                           (keyword,))

    def registrations(self, name: str | None = None) -> list[F.Registration]:
        """NOKPROBE_SYMBOL-style registrations (all of them without a name)."""
        return self._facts("registrations", "t.name=?", (name,)) if name is not None else self._facts("registrations")

    def registrations_many(self, names: Iterable[str]) -> dict[str, list[F.Registration]]:
        return self._many("registrations", "name", names)

    def asm_symbols(self, name: str | None = None) -> list[F.AsmSymbol]:
        return self._facts("asm_symbols", "t.name=?", (name,)) if name is not None else self._facts("asm_symbols")

    def asm_symbols_many(self, names: Iterable[str]) -> dict[str, list[F.AsmSymbol]]:
        return self._many("asm_symbols", "name", names)

    def asm_in_sections(self, sections: Iterable[str]) -> list[F.AsmSymbol]:
        """Assembly symbols placed in any of these sections (exact names)."""
        secs = list(dict.fromkeys(sections))
        if not secs:
            return []
        return self._facts("asm_symbols", f't.section IN ({", ".join("?" * len(secs))})', secs)

    def refs(self, name: str) -> list[F.SymbolRef]:
        return self._facts("refs", "t.name=?", (name,))

    def refs_many(self, names: Iterable[str]) -> dict[str, list[F.SymbolRef]]:
        return self._many("refs", "name", names)

    def data_symbols(self, name: str) -> list[F.DataSymbol]:
        return self._facts("data", "t.name=?", (name,))

    def data_many(self, names: Iterable[str]) -> dict[str, list[F.DataSymbol]]:
        return self._many("data", "name", names)

    def macro_defs(self, name: str) -> list[F.MacroDef]:
        return self._facts("macro_defs", "t.name=?", (name,))

    def is_macro(self, name: str) -> list[str]:
        """Paths of the files that #define `name` (any kind of macro), sorted."""
        sql = ("SELECT f.path FROM object_macros o JOIN files f ON f.id=o.file_id WHERE o.name_hash=? "
               "UNION SELECT COALESCE(m.path, f.path) FROM macro_defs m JOIN files f ON f.id=m.file_id "
               "WHERE m.name=? ORDER BY 1")
        with self._guard():
            return [r[0] for r in self.conn.execute(sql, (name_hash(name), name))]

    def macro_uses(self, name: str, first_arg: str | None = None) -> list[F.MacroUse]:
        """File-scope uses of a macro. A trailing '%' or '*' in `name` matches a prefix
        ("SYSCALL_DEFINE%"); `first_arg` keeps the uses whose first argument is it."""
        if name.endswith(("%", "*")):
            prefix = name[:-1]
            where, params = "t.name >= ? AND t.name < ?", [prefix, prefix + "\U0010ffff"]
        else:
            where, params = "t.name = ?", [name]
        if first_arg is not None:
            where += " AND (t.args = ? OR substr(t.args, 1, ?) = ?)"
            params += [first_arg, len(first_arg) + 1, first_arg + "\x1f"]
        return self._facts("macro_uses", where, params)

    def exports(self, name: str) -> list[str]:
        """Paths of the files that EXPORT_SYMBOL* `name`."""
        with self._guard():
            return [r[0] for r in self.conn.execute(
                "SELECT f.path FROM exports e JOIN files f ON f.id=e.file_id WHERE e.name=? ORDER BY 1", (name,))]

    def calls_into(self, name: str) -> list[F.CallEdge]:
        """Call edges whose callee is `name`."""
        return self._facts("calls", "t.callee=?", (name,))

    def call_edges(self, path_filter: Callable[[str], bool] | None = None) -> Iterator[tuple[str, str]]:
        """Every (caller, callee) pair, for networkx's add_edges_from; `path_filter`
        keeps the edges of the files it accepts (e.g. this arch's only)."""
        with self._guard():
            if path_filter is None:
                yield from self.conn.execute("SELECT caller, callee FROM calls")
            else:
                paths = dict(self.conn.execute("SELECT id, path FROM files"))
                verdicts: dict[object, bool] = {}  # path_filter per file, not per edge
                for caller, callee, fid, path in self.conn.execute("SELECT caller, callee, file_id, path FROM calls"):
                    key = path if path is not None else fid
                    ok = verdicts.get(key)
                    if ok is None:
                        ok = verdicts[key] = bool(path_filter(path if path is not None else paths[fid]))
                    if ok:
                        yield caller, callee

    def kbuild_facts(self) -> dict[str, F.FileFacts]:
        """The facts of every Makefile/Kbuild, by path (for the build map)."""
        out: dict[str, F.FileFacts] = {}
        ids: dict[int, F.FileFacts] = {}
        with self._guard():
            for fid, path, pe in self.conn.execute(
                    "SELECT id, path, parse_errors FROM files WHERE kind='kbuild' ORDER BY path"):
                ids[fid] = out[path] = F.FileFacts(path=path, kind="kbuild", parse_errors=pe or 0)
            for table in ("kbuild_rules", "flag_removals"):
                cls = F.FACT_TYPES[table]
                sql = _select(table).replace("SELECT ", "SELECT t.file_id, ", 1) + " ORDER BY t.file_id, t.line"
                for row in self.conn.execute(sql):
                    ff = ids.get(row[0])
                    if ff is not None:
                        getattr(ff, table).append(F.fact_from_row(cls, row[1:]))
            for fid, msg in self.conn.execute(
                    "SELECT w.file_id, w.message FROM warnings w JOIN files f ON f.id=w.file_id "
                    "WHERE f.kind='kbuild' ORDER BY w.rowid"):
                ids[fid].warnings.append(msg)
        return out

    def kconfig_selects(self, path_prefix: str = "") -> list[F.KconfigSelect]:
        """`select` lines of the arch Kconfig files under `path_prefix` ("arch/x86/")."""
        return self._facts("kconfig_selects", "substr(COALESCE(t.path, f.path), 1, ?) = ?",
                           (len(path_prefix), path_prefix))

    def iter_facts(self, table: str) -> Iterator:
        """Every fact of one table of facts.FACT_TYPES (for whole-tree passes)."""
        if table not in F.FACT_TYPES:
            raise ValueError(f"unknown fact table {table!r}")
        cls = F.FACT_TYPES[table]
        with self._guard():
            for row in self.conn.execute(_select(table)):
                yield F.fact_from_row(cls, row)

    def file_parse_errors(self) -> dict[str, int]:
        """path -> ERROR nodes / unparseable lines, for the files that have some."""
        with self._guard():
            return dict(self.conn.execute(
                "SELECT path, parse_errors FROM files WHERE parse_errors > 0 ORDER BY path"))

    def warnings(self) -> list[str]:
        """Every warning the extractors left on the cached files."""
        with self._guard():
            return [r[0] for r in self.conn.execute(
                "SELECT w.message FROM warnings w JOIN files f ON f.id=w.file_id ORDER BY f.path, w.rowid")]

    def sources(self, kind: str | None = None) -> list[str]:
        """Paths of the indexed files (of one kind)."""
        sql = "SELECT path FROM files WHERE kind != 'generated'" + (" AND kind=?" if kind else "") + " ORDER BY path"
        with self._guard():
            return [r[0] for r in self.conn.execute(sql, (kind,) if kind else ())]


# ---------------------------------------------------------------- writer

class _Writer:
    """Accumulates worker results; writes them in transactions of whole files."""

    def __init__(self, conn: sqlite3.Connection, known: dict[str, tuple[int, str]], fps: dict[str, str]):
        self.conn = conn
        self.ids = {p: fid for p, (fid, _sha1) in known.items()}  # path -> files.id, stored files
        self.sha1 = {p: sha1 for p, (_fid, sha1) in known.items()}  # path -> content hash stored
        self.assigned: dict[str, int] = {}  # path -> files.id given to a new file's rows
        self._next_id = (conn.execute("SELECT max(id) FROM files").fetchone()[0] or 0) + 1
        self.fps = fps
        self.pending: list[tuple[SourceFile, tuple]] = []
        self.rows = 0
        self.extracted = 0
        self.rehashed = 0
        self._insert_sql = {}
        for table, cls in F.FACT_TYPES.items():
            self._insert_sql[table] = f'INSERT INTO "{table}" VALUES ({", ".join("?" * (len(fields(cls)) + 1))})'
        self._insert_sql["exports"] = "INSERT INTO exports VALUES (?, ?)"
        self._insert_sql[_HASHED] = f'INSERT OR IGNORE INTO "{_HASHED}" VALUES (?, ?)'
        self._insert_sql["warnings"] = "INSERT INTO warnings VALUES (?, ?)"
        self._insert_sql["deps"] = "INSERT INTO deps VALUES (?, ?)"
        # The link step only has to run again when macro definitions, or uses of defined
        # macros, come or go: most edits of a .c file change neither.
        self.defined = {r[0] for r in conn.execute("SELECT DISTINCT name FROM macro_defs")}
        self.link_dirty = False
        # Dependents extracted in an earlier build may have read an older header; those of
        # this build read the current one. No deps stored yet (cold build): nothing to mark.
        self.track_deps = conn.execute("SELECT 1 FROM deps LIMIT 1").fetchone() is not None

    def file_id(self, path: str) -> int:
        """The files.id of `path`: its stored one, or a new one for the worker to put in
        the rows (saves the writer rebuilding every row tuple)."""
        fid = self.ids.get(path) or self.assigned.get(path)
        if fid is None:
            fid = self.assigned[path] = self._next_id
            self._next_id += 1
        return fid

    def delete_rows(self, fid: int) -> None:
        """Delete a stored file's fact rows (inside the caller's transaction)."""
        conn = self.conn
        if not self.link_dirty:
            self.link_dirty = bool(
                conn.execute("SELECT 1 FROM macro_defs WHERE file_id=? LIMIT 1", (fid,)).fetchone()
                or any(r[0] in self.defined for r in conn.execute(
                    "SELECT DISTINCT name FROM macro_uses WHERE file_id=?", (fid,))))
        for table in self._insert_sql:
            conn.execute(f'DELETE FROM "{table}" WHERE file_id=?', (fid,))

    def mark_dependents(self, path: str) -> None:
        """`path` changed, appeared or went: the files that looked at it are stale."""
        if self.track_deps:
            self.conn.execute("UPDATE files SET stale=1 WHERE id IN (SELECT file_id FROM deps WHERE dep=?)", (path,))

    def note_new_rows(self, packed: dict) -> None:
        # rows are (file_id, name, ...)
        defs = packed.get("macro_defs")
        if defs:
            self.defined.update(r[1] for r in defs)
            self.link_dirty = True
        elif not self.link_dirty:
            self.link_dirty = any(r[1] in self.defined for r in packed.get("macro_uses", ()))

    def mark_link(self) -> None:
        """Record (in the current transaction) that the link step must run."""
        if self.link_dirty:
            self.conn.execute("UPDATE meta SET value='1' WHERE key='link_dirty'")

    def add(self, sf: SourceFile, res: tuple) -> None:
        self.pending.append((sf, res))
        packed = res[3]
        if packed:
            self.rows += sum(len(v) for v in packed.values())
        if len(self.pending) >= BATCH_FILES or self.rows >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        conn = self.conn
        by_table: dict[str, list[tuple]] = {t: [] for t in self._insert_sql}
        conn.execute("BEGIN")
        for sf, (relpath, status, sha1, packed, parse_errors, file_warnings, _u, deps) in self.pending:
            fid = self.ids.get(relpath)
            if status == "same":
                conn.execute("UPDATE files SET size=?, mtime_ns=? WHERE id=?", (sf.size, sf.mtime_ns, fid))
                self.rehashed += 1
                continue
            self.extracted += 1
            values = (sha1, sf.size, sf.mtime_ns, sf.kind, parse_errors, self.fps[sf.kind])
            if fid is not None:
                self.delete_rows(fid)
                conn.execute("UPDATE files SET sha1=?, size=?, mtime_ns=?, kind=?, parse_errors=?, fp=?, stale=0 "
                             "WHERE id=?", (*values, fid))
            else:
                fid = self.assigned.pop(relpath)
                conn.execute("INSERT INTO files(sha1, size, mtime_ns, kind, parse_errors, fp, path, id) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (*values, relpath, fid))
                self.ids[relpath] = fid
            if sha1 != self.sha1.get(relpath) or not sha1:
                self.mark_dependents(relpath)
                self.sha1[relpath] = sha1
            if packed:  # rows carry the file id already (file_id() gave it to the worker)
                self.note_new_rows(packed)
                for table, rows in packed.items():
                    by_table[table].extend(rows)
            by_table["warnings"].extend((fid, w) for w in file_warnings)
            by_table["deps"].extend((fid, d) for d in deps)
        for table, rows in by_table.items():
            if rows:
                conn.executemany(self._insert_sql[table], rows)
        self.mark_link()
        conn.execute("COMMIT")
        self.pending.clear()
        self.rows = 0


# ---------------------------------------------------------------- progress

class _Progress:
    """A rich progress bar on stderr (files/s and ETA by bytes), or nothing."""

    def __init__(self, enabled: bool, total_files: int, total_bytes: int):
        self.enabled = enabled
        self.total_files = total_files
        self.total_bytes = max(total_bytes, 1)
        self.done = 0
        self._bar = None
        self._task = None
        self._t0 = time.monotonic()

    def __enter__(self) -> "_Progress":
        return self

    def start(self) -> None:
        if not self.enabled or self._bar is not None:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        self._bar = Progress(
            TextColumn("indexing"), BarColumn(),
            TextColumn("{task.fields[files]}/{task.fields[total_files]} files"),
            TextColumn("{task.fields[rate]} files/s"), TimeRemainingColumn(),
            console=Console(stderr=True), transient=True)
        self._bar.start()
        self._task = self._bar.add_task("index", total=self.total_bytes, files=0,
                                        total_files=self.total_files, rate="-")
        self._t0 = time.monotonic()

    def advance(self, sizes: list[int]) -> None:
        self.done += len(sizes)
        if not self.enabled:
            return
        self.start()
        rate = self.done / max(time.monotonic() - self._t0, 1e-6)
        self._bar.update(self._task, advance=sum(sizes), files=self.done, rate=f"{rate:,.0f}")

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
