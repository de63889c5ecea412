"""The XML layer of the camt profile: a safe parse, the document's kind, and element look-ups.

The parser is lxml's with every door closed that an attack through XML walks in by: no entity
is resolved (``resolve_entities=False``), no DTD is loaded, nothing is fetched from the network
(``no_network=True``), and libxml2's size guards stay on (``huge_tree=False``, so a billion-laughs
document or an absurdly deep tree is refused). A camt message never needs a DTD, so a document
that declares one is refused outright rather than parsed with its entities left dangling.

lxml is used directly: the camt parser on PyPI (``pycamt`` 1.1.1) refuses both camt.054
samples, turns a batch entry into one row per transaction detail and misses the ``Sts/Cd`` form
of .08, so the profile keeps its own thin reader over a sound XML library.

Elements are read by local name within the document's own namespace
(``urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN`` or ``camt.054.001.NN``, NN from 02 to 10);
elements of any other namespace (supplementary data, extensions) are not looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from walletrecon.errors import InputError

#: camt message kinds this profile reads: kind -> (message element, statement element).
MESSAGES: dict[str, tuple[str, str]] = {
    "053": ("BkToCstmrStmt", "Stmt"),
    "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn"),
}
#: The versions of each message read (``.001.02`` to ``.001.10``).
VERSIONS = tuple(f"{n:02d}" for n in range(2, 11))
NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.(05[34])\.001\.(\d\d)")
EXPECTED_ROOT = (
    "a <Document> in namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN or "
    f"camt.054.001.NN (NN {VERSIONS[0]} to {VERSIONS[-1]})"
)
_REPORT = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.052\.001\.\d\d")
#: Element names that are one record each (see the profile's docstring).
RECORD_ELEMENTS = ("Ntry", "Bal", "TxsSummry")
_START_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?(" + "|".join(RECORD_ELEMENTS) + r")[\s/>]")
#: Left out of the record count: comments, CDATA sections and ``SplmtryData`` (ISO 20022's
#: place for a bank's own elements, in its own namespaces: its ``Bal`` is none of ours).
_HIDDEN = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>"
    r"|<((?:[A-Za-z_][\w.-]*:)?SplmtryData)[\s>].*?</\1\s*>",
    re.DOTALL,
)
_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
_ROOT_START = re.compile(r"<[A-Za-z_]")
_POSITION = re.compile(r", line \d+, column \d+$")

Element = etree._Element
_QUERIES: dict[tuple[str, tuple[tuple[str, ...], ...]], etree.XPath] = {}


@dataclass(frozen=True)
class Document:
    """A parsed camt message: its kind (``053``/``054``), version, namespace and message element."""

    kind: str
    version: str
    namespace: str
    message: Element

    def q(self, name: str) -> str:
        """The qualified tag of a local name in the document's namespace."""
        return f"{{{self.namespace}}}{name}"

    def elements(self, parent: Element, paths: tuple[tuple[str, ...], ...]) -> list[Element]:
        """Every element down any of these paths of local names, in document order (one
        compiled XPath per set of paths and namespace, kept for later documents)."""
        key = (self.namespace, paths)
        query = _QUERIES.get(key)
        if query is None:
            union = " | ".join("/".join(f"c:{name}" for name in path) for path in paths)
            query = etree.XPath(union, namespaces={"c": self.namespace})
            _QUERIES[key] = query
        found = query(parent)
        assert isinstance(found, list)
        return [node for node in found if isinstance(node, etree._Element)]

    def children(self, parent: Element, name: str) -> list[Element]:
        """The children of ``parent`` with this local name, in document order."""
        return list(parent.iterchildren(self.q(name)))

    def child(self, parent: Element | None, *path: str) -> Element | None:
        """The first element down a path of local names, or None when any step is missing."""
        node = parent
        for name in path:
            if node is None:
                return None
            node = next(node.iterchildren(self.q(name)), None)
        return node

    def text(self, parent: Element | None, *path: str) -> str | None:
        """The stripped text down a path of local names; None when missing or empty."""
        node = self.child(parent, *path)
        if node is None or node.text is None:
            return None
        return node.text.strip() or None


def parse(text: str, name: str) -> Document:
    """Parse a camt message from its decoded text; InputError naming the file, the line and
    column of a syntax error, or what root was expected."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    # The text is already decoded: the declaration's encoding would only contradict it. It is
    # blanked out (not removed), so every line and column keeps its number.
    body = _DECLARATION.sub(lambda match: re.sub(r"\S", " ", match.group()), text, count=1)
    _refuse_dtd(body, name)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        reason = _POSITION.sub("", exc.msg or "syntax error")
        raise InputError(
            f"{name}: line {line}, column {column}: not well-formed XML ({reason}); "
            f"expected a complete camt message, {EXPECTED_ROOT}"
        ) from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise InputError(f"{name}: a DTD is not allowed in a camt message")
    return _document(root, name)


def _refuse_dtd(body: str, name: str) -> None:
    """InputError when the prolog (the text before the root element) declares a DTD: a camt
    message has none, and a DTD is where entity expansion attacks live."""
    root = _ROOT_START.search(body)
    prolog = body[: root.start()] if root else body
    position = prolog.find("<!DOCTYPE")
    if position >= 0:
        line = prolog.count("\n", 0, position) + 1
        raise InputError(f"{name}: line {line}: a DTD is not allowed in a camt message")


def _document(root: Element, name: str) -> Document:
    """The Document of a parsed root, checking the root, namespace, version and message."""
    qname = etree.QName(root)
    match = NAMESPACE.fullmatch(qname.namespace or "")
    if qname.localname == "Document" and _REPORT.fullmatch(qname.namespace or ""):
        raise InputError(
            f"{name}: line {root.sourceline}: a camt.052 account report is not read (this "
            f"profile reads statements and notifications); expected {EXPECTED_ROOT}"
        )
    if qname.localname != "Document" or match is None:
        found = f"<{qname.localname}> in namespace {qname.namespace or '(none)'}"
        raise InputError(f"{name}: line {root.sourceline}: expected {EXPECTED_ROOT}; found {found}")
    kind, version = match.groups()
    if version not in VERSIONS:
        raise InputError(
            f"{name}: line {root.sourceline}: camt.{kind}.001.{version} is not read; "
            f"expected {EXPECTED_ROOT}"
        )
    message_name = MESSAGES[kind][0]
    message = root.find(f"{{{qname.namespace}}}{message_name}")
    if message is None:
        raise InputError(
            f"{name}: line {root.sourceline}: Document: expected the element <{message_name}> "
            f"of camt.{kind}"
        )
    return Document(kind, version, qname.namespace or "", message)


def count_records(text: str) -> int:
    """The file's records counted by a plain text scan, apart from the parser: start tags of
    ``Ntry``, ``Bal`` and ``TxsSummry`` (comments, CDATA sections and ``SplmtryData`` left
    out)."""
    return len(_START_TAG.findall(_HIDDEN.sub("", text)))


def raw_text(element: Element) -> str:
    """The element's XML as text, without the namespace declarations lxml copies onto it."""
    text: str = etree.tostring(element, encoding="unicode", with_tail=False)
    head, _, rest = text.partition(">")
    return _XMLNS.sub("", head) + ">" + rest


_XMLNS = re.compile(r'\s+xmlns(?::[\w.-]+)?="[^"]*"')


def line_of(element: Element) -> int:
    """The 1-based source line where the element starts (0 when lxml does not know it)."""
    line = element.sourceline
    return line if isinstance(line, int) else 0
