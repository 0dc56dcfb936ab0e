"""Finding and decompressing the kernel inside a compressed image, with an on-disk cache.

The kernel's `scripts/Makefile.lib` compressors: gzip, bzip2, lzma (the old .lzma "alone"
format), xz (with a BCJ filter: `scripts/xz_wrap.sh`; Python's lzma decodes it), lzo, lz4
(legacy frames) and zstd. The Python standard library covers gzip, bzip2, lzma and xz;
zstd and lz4 are used when the `zstandard` / `lz4` packages happen to be installed; lzo is
not supported. Debian 6.1 uses xz for the amd64 bzImage and the armhf zImage.

Decompressed images go to `<cache dir>/images/<sha256 of the compressed file>.img`, so
repeated CLI calls on the same file skip the ~1 s of decompression.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import mmap
import os
import re
import tempfile
import zlib
from pathlib import Path

from ..errors import InputError

# Magic bytes of each compressor's stream, as the kernel writes them.
MAGICS: tuple[tuple[str, bytes], ...] = (
    ("xz", b"\xfd7zXZ\x00"),
    ("gzip", b"\x1f\x8b\x08"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("lz4", b"\x02\x21\x4c\x18"),  # lz4 legacy format (`lz4 -l`, scripts/Makefile.lib)
    ("bzip2", b"BZh"),
    ("lzma", b"\x5d\x00\x00"),  # lzma-alone: properties byte 0x5d, then the dictionary size
    ("lzo", b"\x89LZO\x00\r\n\x1a\n"),
)

KEEP_CACHED = 8  # decompressed images kept in the cache (the least recently used go first)
MIN_KERNEL = 256 << 10  # a real kernel is at least this big: the first such stream wins at once


class UnsupportedCompression(InputError):
    """A compressor kpanalyze cannot undo here (lzo; zstd or lz4 without their package)."""


def sniff(data, offset: int = 0) -> str | None:
    """The compression whose magic starts at `offset`, or None."""
    for name, magic in MAGICS:
        if data[offset:offset + len(magic)] == magic:
            return name
    return None


def decompress(data, name: str, *, path: str = "") -> bytes:
    """Decompress one stream that starts at data[0] (trailing bytes are ignored); a stream
    that stops before its end marker is an error (a truncated file)."""
    try:
        if name in ("xz", "lzma", "gzip", "bzip2"):
            if name == "gzip":
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif name == "bzip2":
                d = bz2.BZ2Decompressor()
            else:
                d = lzma.LZMADecompressor(lzma.FORMAT_XZ if name == "xz" else lzma.FORMAT_ALONE)
            out = d.decompress(data)
            if not d.eof:
                raise InputError(f"{path}: truncated {name} data (the stream ends early)")
            return out
        if name == "zstd":
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                raise UnsupportedCompression(f"{path}: the kernel is compressed with zstd: install the 'zstandard' "
                                 "package, or give the uncompressed vmlinux") from None
            return zstandard.ZstdDecompressor().decompressobj().decompress(bytes(data))
        if name == "lz4":
            return _lz4_legacy(data, path)
    except (lzma.LZMAError, zlib.error, OSError, EOFError, ValueError) as e:
        raise InputError(f"{path}: corrupt {name} data ({e})") from None
    raise UnsupportedCompression(f"{path}: the kernel is compressed with {name}, which kpanalyze cannot "
                                 "decompress; give the uncompressed vmlinux instead")


def _lz4_legacy(data, path: str) -> bytes:
    try:
        import lz4.block  # type: ignore[import-not-found]
    except ImportError:
        raise UnsupportedCompression(f"{path}: the kernel is compressed with lz4: install the 'lz4' package, "
                         "or give the uncompressed vmlinux") from None
    out = bytearray()
    pos = 4
    while pos + 4 <= len(data):
        n = int.from_bytes(data[pos:pos + 4], "little")
        if n == 0x184C2102:  # a new legacy frame
            pos += 4
            continue
        if n == 0 or pos + 4 + n > len(data):
            break
        try:
            out += lz4.block.decompress(bytes(data[pos + 4:pos + 4 + n]), uncompressed_size=8 << 20)
        except Exception:
            break  # the size trailer the kernel appends is not a block
        pos += 4 + n
    return bytes(out)


def find_payload(data, *, start: int = 0, path: str = "") -> tuple[str, bytes]:
    """Find a compressed kernel inside `data` (a zImage) by trying every magic hit in order
    of position; the first that decompresses to something kernel-sized wins."""
    hits: list[tuple[int, str]] = []
    for name, magic in MAGICS:
        for m in re.finditer(re.escape(magic), data[start:]):
            off = start + m.start()
            if name != "lzma" or _plausible_lzma(data, off):
                hits.append((off, name))
    hits.sort()
    unsupported: set[str] = set()
    best: tuple[str, bytes] | None = None
    for off, name in hits:
        try:
            out = decompress(memoryview(data)[off:], name, path=path)
        except UnsupportedCompression:
            unsupported.add(name)
            continue
        except InputError:
            continue  # a false hit: the magic bytes occur in the decompressor's code
        if len(out) >= MIN_KERNEL:
            return name, out
        if best is None or len(out) > len(best[1]):
            best = name, out
    if best is not None and best[1]:
        return best  # a small kernel (tests); complete streams only, so no false hit
    if unsupported:
        raise UnsupportedCompression(f"{path}: the kernel inside is compressed with "
                                     f"{'/'.join(sorted(unsupported))}, which kpanalyze cannot decompress here; "
                                     "give the uncompressed vmlinux instead")
    raise InputError(f"{path}: no compressed kernel found inside the image (tried gzip, xz, lzma, bzip2, "
                     "zstd, lz4 signatures)")


def _plausible_lzma(data, off: int) -> bool:
    # 5d 00 00 is common in code: also ask for a power-of-two dictionary of 64 KiB or more.
    dict_size = int.from_bytes(data[off + 1:off + 5], "little")
    return dict_size >= 1 << 16 and dict_size & (dict_size - 1) == 0


# ---------------------------------------------------------------- cache


def cache_dir() -> Path:
    from ..index import default_cache_dir
    return default_cache_dir() / "images"


def cached(path: Path, data, produce) -> tuple[object, str]:
    """(buffer, how) for the decompressed form of `data` (the bytes of `path`): the cached
    copy (mmap) when present, else produce() -> (name, bytes), stored for next time.
    `how` is the compression name. A cache that cannot be written is silently skipped."""
    key = hashlib.sha256(data).hexdigest()[:32]
    d = cache_dir()
    for f in d.glob(f"{key}.*.img") if d.is_dir() else ():
        try:
            with open(f, "rb") as fh:
                buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            os.utime(f)  # recently used: pruned last
            return buf, f.name.split(".")[1]
        except (OSError, ValueError):
            break  # unreadable or empty cache file: decompress again
    name, out = produce()
    tmp = None
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, suffix=".partial")
        with os.fdopen(fd, "wb") as fh:
            fh.write(out)
        os.replace(tmp, d / f"{key}.{name}.img")  # atomic: a killed run leaves no half file
        _prune(d)
    except OSError:
        if tmp:
            Path(tmp).unlink(missing_ok=True)
    return out, name


def _prune(d: Path) -> None:
    files = sorted(d.glob("*.img"), key=lambda f: f.stat().st_mtime, reverse=True)
    for f in files[KEEP_CACHED:]:
        f.unlink(missing_ok=True)
