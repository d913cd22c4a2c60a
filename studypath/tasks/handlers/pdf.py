"""A minimal PDF writer: pages of monospaced text, for the `report_generation` task.

A PDF is a header, numbered objects, a cross-reference table giving each object's byte
offset, and a trailer that names the root object. A text page needs four kinds of object:
the catalog (root), the page tree, one font, and per page a page object with its content
stream — drawing operators such as `(Hello) Tj` ("show this text"). That is all this module
writes, following the PDF 1.4 reference; any PDF reader opens the result.

The font is Courier, one of the 14 standard fonts every reader has, so nothing is embedded
and columns line up. Its encoding (WinAnsi) covers Latin-1: other characters print as `?`.
"""

from __future__ import annotations

PAGE_WIDTH, PAGE_HEIGHT = 842, 595  # A4 landscape, in points (1/72 inch)
MARGIN = 40
FONT_SIZE = 9
LEADING = 11  # baseline to baseline
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LEADING
CHARS_PER_LINE = int((PAGE_WIDTH - 2 * MARGIN) / (FONT_SIZE * 0.6))  # Courier: 0.6 em wide


def pdf_string(text: str) -> bytes:
    """A PDF literal string: `(` `)` and `\\` escaped, Latin-1 bytes, no line breaks."""
    line = text.replace("\r", " ").replace("\n", " ")[:CHARS_PER_LINE]
    raw = line.encode("latin-1", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def page_content(lines: list[str]) -> bytes:
    """The drawing operators of one page: start at the top-left margin, one line each."""
    operators = [
        b"BT",
        f"/F1 {FONT_SIZE} Tf".encode(),
        f"{LEADING} TL".encode(),
        f"{MARGIN} {PAGE_HEIGHT - MARGIN - FONT_SIZE} Td".encode(),
    ]
    for line in lines:
        operators.append(pdf_string(line) + b" Tj T*")  # show the text, go to the next line
    operators.append(b"ET")
    return b"\n".join(operators)


def render_text_pdf(lines: list[str]) -> bytes:
    """A PDF document showing `lines` (too long ones cut), as many pages as they need."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]
    pages = pages or [[]]
    # Objects 1-3: catalog, page tree, font; then a page and its content per page.
    page_ids = [4 + 2 * index for index in range(len(pages))]
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, page in zip(page_ids, pages, strict=True):
        content = page_content(page)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    return _assemble(objects)


def _assemble(objects: list[bytes]) -> bytes:
    """Header, the objects (numbered from 1), the cross-reference table and the trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks it binary
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"  # entry 0: the head of the free list, always
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()  # each entry exactly 20 bytes
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
