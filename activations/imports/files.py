"""The file an import reads: that it exists, that it is whole and readable, and its
sha256 (the ledger's key).

``check_readable`` reads the whole file once before anything is staged, so a file
that is truncated, binary or not UTF-8 is refused with one message naming the file
and the line, and nothing is written (``UserError``, exit code 2). Line numbers are
those of the file as a text editor shows them (1-based, header included), counted
here on the bytes, so they are exact whatever the CSV reader makes of the line.
"""

from __future__ import annotations

import codecs
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from activations.errors import UserError
from activations.imports.lines import file_kind

CHUNK = 1 << 20
NOTHING = "nothing was imported"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path) -> Path:
    if not path.exists():
        raise UserError(f"{path}: no such file", hint="check the path of the file to import")
    if not path.is_file():
        raise UserError(f"{path} is a directory, not a file", hint="name one file to import")
    return path.resolve()


@dataclass(frozen=True)
class TextFacts:
    """What the byte scan of a text file found: its number of lines and whether
    its last line ends with a line break (a file cut short usually does not)."""

    lines: int
    ends_with_newline: bool


def check_readable(path: Path) -> TextFacts | None:
    """Refuse a file that cannot be imported whole; return the facts of a text file
    (None for Parquet, whose footer is checked instead)."""
    kind = file_kind(path)
    if kind == "parquet":
        _check_parquet_footer(path)
        return None
    if kind == "zip":
        raise UserError(
            f"{path}: line 1: a ZIP archive (an Excel .xlsx workbook?), not text; {NOTHING}",
            hint="export the sheet as CSV UTF-8 and import that file",
        )
    if kind == "gzip":
        return _scan_gzip(path)
    with path.open("rb") as handle:
        return _scan_text(path, iter(lambda: handle.read(CHUNK), b""))


def _check_parquet_footer(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(size - 4, 0))
        tail = handle.read(4)
    if size < 12 or tail != b"PAR1":
        raise UserError(
            f"{path}: the Parquet file is truncated (it has no footer: the copy or download "
            f"stopped early); {NOTHING}",
            hint="copy or download the file again",
        )


def _scan_gzip(path: Path) -> TextFacts:
    """Decompress (every member) and scan; a stream that stops before its end marker
    is a truncated file, and the scan knows the last whole line it got."""
    scanned = _Scan(path)
    stream = zlib.decompressobj(wbits=31)
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                while chunk:
                    scanned.feed(stream.decompress(chunk))
                    chunk = b""
                    if stream.eof and stream.unused_data.startswith(b"\x1f\x8b"):
                        chunk, stream = stream.unused_data, zlib.decompressobj(wbits=31)
    except zlib.error as exc:
        raise UserError(
            f"{path}: line {scanned.lines + 1}: the gzip file is damaged ({exc}); {NOTHING}",
            hint="copy or download the file again",
        ) from None
    if not stream.eof:
        raise UserError(
            f"{path}: line {scanned.lines + 1}: the gzip file ends early (it is truncated: the "
            f"copy or download stopped after line {scanned.lines}); {NOTHING}",
            hint="copy or download the file again",
        )
    return scanned.finish()


def _scan_text(path: Path, chunks) -> TextFacts:
    scanned = _Scan(path)
    for chunk in chunks:
        scanned.feed(chunk)
    return scanned.finish()


class _Scan:
    """Byte scan of a text stream: no NUL byte, valid UTF-8, lines counted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0  # complete lines seen
        self.carry = b""  # the start of a line whose end is in a later chunk
        self.first = True
        self.last_byte = b""

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.first:
            self.first = False
            if chunk[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                raise UserError(
                    f"{self.path}: line 1: the file is UTF-16 text, not UTF-8; {NOTHING}",
                    hint="save the file as UTF-8 (in Excel: CSV UTF-8) and import it again",
                )
        self.last_byte = chunk[-1:]
        data = self.carry + chunk
        # a line break never occurs inside a UTF-8 sequence: check up to the last one
        cut = data.rfind(b"\n") + 1
        self._check(data[:cut])
        self.lines += data.count(b"\n", 0, cut)
        self.carry = data[cut:]

    def finish(self) -> TextFacts:
        if self.carry:
            self._check(self.carry)
            return TextFacts(lines=self.lines + 1, ends_with_newline=False)
        return TextFacts(lines=self.lines, ends_with_newline=self.last_byte in (b"\n", b""))

    def _line_of(self, data: bytes, offset: int) -> tuple[int, int]:
        """(line number, 1-based byte column) of ``data[offset]``."""
        line_start = data.rfind(b"\n", 0, offset) + 1
        return self.lines + data.count(b"\n", 0, offset) + 1, offset - line_start + 1

    def _check(self, data: bytes) -> None:
        nul = data.find(b"\x00")
        try:
            data.decode("utf-8")
            bad = None
        except UnicodeDecodeError as exc:
            bad = exc.start
        if nul >= 0:  # a NUL byte says binary more surely than a byte that is not UTF-8
            line, column = self._line_of(data, nul)
            raise UserError(
                f"{self.path}: line {line}, byte {column}: a NUL byte (0x00): this is a binary "
                f"file, not text; {NOTHING}",
                hint="check that you named the right file (a CSV or text export)",
            )
        if bad is not None:
            line, column = self._line_of(data, bad)
            raise UserError(
                f"{self.path}: line {line}, byte {column}: byte 0x{data[bad]:02x} is not UTF-8 "
                f"text (the file looks Latin-1 or Windows-1252 encoded); {NOTHING}",
                hint="save the file as UTF-8 (in Excel: CSV UTF-8) and import it again",
            )
