"""Helpers every profile shares: decoding a file strictly, and amounts as decimal text.

A file that does not decode in its declared encoding is an input error naming the byte offset,
never mojibake. Amounts stay exact: Decimal from text, written back as plain decimal text in
major units of the currency.
"""

from __future__ import annotations

import codecs
import re
from decimal import Decimal
from pathlib import Path

from walletrecon.errors import InputError
from walletrecon.money import exponent_of, parse_decimal


def decode_file(path: Path, encoding: str, display: str = "") -> str:
    """The text of a file in its declared encoding (a byte order mark is dropped), with its lines
    ending in LF whether the file ended them with CR LF, LF or CR alone (old Mac exports, and
    files pasted together from several systems).

    InputError naming the file and byte offset when a byte sequence does not decode, and for an
    encoding Python does not know."""
    name = display or str(path)
    try:
        codec = codecs.lookup(encoding)
    except LookupError as exc:
        raise InputError(f"{name}: unknown encoding '{encoding}'") from exc
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read file: {exc.strerror or exc}") from exc
    try:
        text = data.decode(codec.name)
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: byte offset {exc.start}: bytes {data[exc.start : exc.end]!r} are not valid "
            f"{encoding} ({exc.reason}); declare the file's encoding on its input"
        ) from exc
    # A byte order mark declared by the encoding's name (utf-16-le, ...) is no part of the text.
    text = text.removeprefix("\ufeff")
    if "\r" not in text:
        return text
    # A line ends at CR LF, LF, or CR alone, as the CSV parser reads it: files exported on old
    # Macs, and files pasted together from several systems, mix them.
    return text.replace("\r\n", "\n").replace("\r", "\n")


#: An XML declaration's encoding, read from the file's first bytes (ASCII in every encoding an
#: ISO 20022 file may use).
_XML_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']"
)


def xml_encoding(path: Path, configured: str) -> str:
    """The encoding to read an XML file in: its declaration's when the input keeps the default
    (UTF-8), as XML itself prescribes; the input's own when it names another one (a person
    who set it knows the file better than a wrong declaration)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(256)
    except OSError:
        return configured  # decode_file names the error
    if codecs.lookup(configured).name == "utf-8":
        # XML 1.0 (4.3.3, appendix F): UTF-16 is known by its byte order mark, before any
        # declaration can be read.
        for mark, encoding in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
            if head.startswith(mark):
                return encoding
    found = _XML_ENCODING.match(head)
    if found is None or codecs.lookup(configured).name != "utf-8":
        return configured
    declared = found.group(1).decode("ascii")
    try:
        same = codecs.lookup(declared).name == "utf-8"
    except LookupError:
        return configured  # an encoding Python does not know: read as configured
    return configured if same else declared


def major_text(value: Decimal) -> str:
    """A Decimal as plain decimal text (no exponent), e.g. ``Decimal('1E+2')`` -> ``'100'``."""
    text = format(value, "f")
    return "0" if text in ("-0", "0") else text


def minor_to_major(minor: str, currency: str) -> str:
    """Integer minor units as text (``"-1250"``) to major-unit decimal text (``"-12.50"``) by
    the currency's ISO 4217 exponent. ValueError for non-integer text or an unknown currency."""
    value = parse_decimal(minor)
    if value != value.to_integral_value():
        raise ValueError(f"{minor!r} is not a whole number of minor units")
    try:
        exponent = exponent_of(currency)
    except KeyError as exc:
        raise ValueError(f"unknown currency {currency!r}") from exc
    return major_text(value.scaleb(-exponent))
