"""A one-page PDF (PDF 1.4, Helvetica, WinAnsi) written by hand: a Bescheid needs no PDF library."""

from collections.abc import Sequence

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842  # A4 in points
_LEFT, _TOP, _LEADING = 56, 780, 16


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (umlauts included), with its specials escaped."""
    raw = text.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped.replace(b"\r", b"").replace(b"\n", b" ") + b")"


def text_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A PDF with a bold title and one text line per entry."""
    stream = b"BT /F2 16 Tf %d %d Td %s Tj ET\n" % (_LEFT, _TOP, _pdf_string(title))
    stream += b"BT /F1 11 Tf %d TL %d %d Td\n" % (_LEADING, _LEFT, _TOP - 2 * _LEADING)
    for line in lines:
        stream += _pdf_string(line) + b" Tj T*\n"
    stream += b"ET\n"
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT),
        font % b"Helvetica",
        font % b"Helvetica-Bold",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)
