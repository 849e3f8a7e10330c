"""Just enough of a PDF reader to get the text of each page of a WeasyPrint PDF.

No PDF library is installed, and the text in WeasyPrint's output is glyph ids in
compressed streams: this inflates the streams, unpacks object streams, and maps glyphs
back to text through each font's ToUnicode map. It reads WeasyPrint's output, not PDFs
in general.
"""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj\s*")
REF = rb"(\d+) 0 R"


def read_objects(data: bytes) -> dict[int, bytes]:
    """Every object's dictionary, or its inflated stream, by object number."""
    objects: dict[int, bytes] = {}
    position = 0
    # Object by object from the end of the last one, so bytes inside a compressed stream
    # are never mistaken for an object header.
    while match := OBJECT.search(data, position):
        number, start = int(match[1]), match.end()
        end = data.index(b"endobj", start)
        head, found, _ = data[start:end].partition(b"stream")
        if found:
            # Slice by /Length: compressed bytes may well hold "endobj" or "endstream".
            length = int(re.search(rb"/Length (\d+)", head)[1])  # type: ignore[index]
            stream_start = start + len(head) + len(b"stream")
            stream_start += 2 if data[stream_start : stream_start + 2] == b"\r\n" else 1
            end = data.index(b"endobj", stream_start + length)
            stream = data[stream_start : stream_start + length]
            if b"/FlateDecode" in head:
                stream = zlib.decompress(stream)
            if b"/ObjStm" in head:
                objects.update(unpack_object_stream(head, stream))
            else:
                objects[number] = stream
        else:
            objects[number] = head
        position = end + len(b"endobj")
    return objects


def unpack_object_stream(head: bytes, stream: bytes) -> dict[int, bytes]:
    count = int(re.search(rb"/N (\d+)", head)[1])  # type: ignore[index]
    first = int(re.search(rb"/First (\d+)", head)[1])  # type: ignore[index]
    numbers = [int(n) for n in stream[:first].split()]
    pairs = list(zip(numbers[0::2], numbers[1::2], strict=True))[:count]
    objects = {}
    for index, (number, offset) in enumerate(pairs):
        end = first + pairs[index + 1][1] if index + 1 < len(pairs) else len(stream)
        objects[number] = stream[first + offset : end]
    return objects


def to_unicode(cmap: bytes) -> dict[int, str]:
    """Glyph id to text, from a ToUnicode CMap's bfchar and bfrange sections."""
    mapping: dict[int, str] = {}
    for section in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for source, target in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", section):
            mapping[int(source, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for section in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for low, high, target in re.findall(
            rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", section
        ):
            base = int(target, 16)
            for offset in range(int(high, 16) - int(low, 16) + 1):
                mapping[int(low, 16) + offset] = chr(base + offset)
    return mapping


def page_texts(data: bytes) -> list[str]:
    """The text of each page in order, with runs of whitespace made single spaces."""
    objects = read_objects(data)
    pages_node = next(body for body in objects.values() if b"/Type /Pages" in body)
    kids = re.search(rb"/Kids \[(.*?)\]", pages_node, re.S)[1]  # type: ignore[index]
    texts = []
    for page_number in re.findall(REF, kids):
        page = objects[int(page_number)]
        resources = objects[int(re.search(rb"/Resources " + REF, page)[1])]  # type: ignore[index]
        font_dict = objects[int(re.search(rb"/Font " + REF, resources)[1])]  # type: ignore[index]
        fonts = {}
        for name, number in re.findall(rb"/([^\s/<>\[\]()]+)\s+" + REF, font_dict):
            unicode_ref = re.search(rb"/ToUnicode " + REF, objects[int(number)])
            fonts[name] = to_unicode(objects[int(unicode_ref[1])]) if unicode_ref else {}
        content = objects[int(re.search(rb"/Contents " + REF, page)[1])]  # type: ignore[index]
        texts.append(" ".join(show_text(content, fonts).split()))
    return texts


def show_text(content: bytes, fonts: dict[bytes, dict[int, str]]) -> str:
    """Decode the hex strings a content stream shows, in the font selected before them."""
    pieces: list[str] = []
    font: dict[int, str] = {}
    token = re.compile(rb"/([^\s/<>\[\]()]+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]*)>|\bTm\b|\bTd\b")
    for match in token.finditer(content):
        if match[1] is not None:
            font = fonts.get(match[1], {})
        elif match[2] is not None:
            codes = match[2].decode()
            pieces.extend(font.get(int(codes[i : i + 4], 16), "") for i in range(0, len(codes), 4))
        else:
            pieces.append(" ")  # a new text position: a new line or a new run
    return "".join(pieces)


def outline_titles(data: bytes) -> list[str]:
    """The top-level bookmark titles, in order."""
    objects = read_objects(data)
    catalog = next(body for body in objects.values() if b"/Type /Catalog" in body)
    outlines = objects[int(re.search(rb"/Outlines " + REF, catalog)[1])]  # type: ignore[index]
    item = re.search(rb"/First " + REF, outlines)
    titles = []
    while item:
        entry = objects[int(item[1])]
        titles.append(pdf_string(re.search(rb"/Title (<[^>]*>|\((?:\\.|[^\\)])*\))", entry)[1]))  # type: ignore[index]
        item = re.search(rb"/Next " + REF, entry)
    return titles


def pdf_string(token: bytes) -> str:
    """A PDF string: hex UTF-16 with a byte order mark, or a literal with escapes."""
    if token.startswith(b"<"):
        raw = bytes.fromhex(token[1:-1].decode())
        return raw[2:].decode("utf-16-be") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    return re.sub(rb"\\(.)", rb"\1", token[1:-1]).decode("latin-1")
