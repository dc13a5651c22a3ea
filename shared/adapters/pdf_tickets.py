"""Tickets as a PDF (fpdf2): one A5 page per ticket with the event, the venue-local date
and time, the ticket type, its state and its QR code drawn as vector squares (segno's
matrix), so it prints sharp at any size.

The PDF core fonts cover Latin-1 only; other characters are spelt with their closest
Latin-1 letters where Unicode decomposition gives one, else ``?`` (no font file to ship).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from fpdf import FPDF

from shared.qr import ticket_qr
from shared.ticket_sheets import TicketSheet


def _latin1(text: str) -> str:
    out = []
    for ch in text:
        try:
            ch.encode("latin-1")
            out.append(ch)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode()
            out.append(base or "?")
    return "".join(out)


def _qr(pdf: FPDF, code: str, x: float, y: float, size: float) -> None:
    qr = ticket_qr(code)
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    cell = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):  # one rectangle per run of dark modules: a smaller file
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * cell, y + r * cell, (c - start) * cell, cell, style="F")
            else:
                c += 1


def render(sheets: Sequence[TicketSheet]) -> bytes:
    pdf = FPDF(format=(148, 210))  # A5 in mm
    pdf.set_title(_latin1(sheets[0].event_name if sheets else "Tickets"))
    pdf.set_creator("Leap Ticketing")
    pdf.set_auto_page_break(False)
    width = 148 - 2 * 12
    for i, s in enumerate(sheets, 1):
        pdf.add_page()
        pdf.set_xy(12, 12)
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(width, 8, _latin1(s.event_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(12)
        pdf.set_font("Helvetica", "", 12)
        for line in (s.when, s.venue):
            pdf.multi_cell(width, 6, _latin1(line), new_x="LMARGIN", new_y="NEXT")
            pdf.set_x(12)
        pdf.ln(2)
        pdf.set_x(12)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(width, 7, _latin1(f"{s.ticket_type}  ({i} of {len(sheets)})"),
                 new_x="LMARGIN", new_y="NEXT")
        size = 90.0
        top = pdf.get_y() + 4
        _qr(pdf, s.code, (148 - size) / 2, top, size)
        pdf.set_xy(12, top + size + 4)
        pdf.set_font("Courier", "", 7)
        pdf.multi_cell(width, 3.5, s.code, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(12)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(width, 5, _latin1(
            f"Reference {s.reference} - order {s.order_id} - {s.state}"), align="C")
    return bytes(pdf.output())
