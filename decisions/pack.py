"""The session pack: a review session's agenda and minutes as CSV (one row per agenda item) and as a
PDF. Built from the minutes the selectors load (`selectors_sessions.session_minutes`); no queries
here.

CSV cells are formula-escaped: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
return is prefixed with a single quote, so a spreadsheet shows it as text instead of running it.
The PDF uses the standard Helvetica font, which covers Latin-1: typographic punctuation is
mapped to its plain equivalent and anything else outside Latin-1 becomes "?".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from decisions.models import AgendaItem, Reallocation, ReviewSession
from decisions.selectors_sessions import Minutes

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADER = [
    "position", "kind", "title", "department", "severity", "owner", "outcome", "decision",
    "decision_status", "chosen_option", "reallocations", "deferred_to", "note",
]  # fmt: skip
LATIN1_PLAIN = str.maketrans(
    {
        "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-",
        "−": "-", "…": "...", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "≠": "!=",
        "•": "*", "·": "-", "✓": "v", "✗": "x", "€": "EUR", "\u00a0": " ", "\u2009": " ",
        "\u202f": " ",
    }
)  # fmt: skip


def escape_cell(value) -> str:
    """A CSV cell as text, prefixed with a single quote when a spreadsheet would read it as a
    formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def latin1(text) -> str:
    """`text` in what the PDF's core font can draw."""
    plain = ("" if text is None else str(text)).translate(LATIN1_PLAIN)
    return plain.encode("latin-1", "replace").decode("latin-1")


def line_text(line: Reallocation) -> str:
    source = line.from_initiative or line.from_department
    target = line.to_initiative or line.to_department
    return f"{line.amount} {line.get_unit_display()}: {source} → {target}"


def _lines(item: AgendaItem) -> list[Reallocation]:
    decision = item.outcome_decision
    return list(decision.reallocations.all()) if decision is not None else []


def _severity(item: AgendaItem) -> str:
    return "" if item.severity is None else f"{item.severity:.1f}"


def _owner(item: AgendaItem) -> str:
    return str(item.action_owner) if item.action_owner_id else ""


def item_row(item: AgendaItem) -> list[str]:
    decision = item.outcome_decision
    return [
        str(item.position),
        item.get_kind_display(),
        item.title,
        item.department.name if item.department_id else "",
        _severity(item),
        _owner(item),
        item.get_outcome_display(),
        f"D-{decision.pk}: {decision.title}" if decision else "",
        decision.get_status_display() if decision else "",
        decision.chosen_option if decision else "",
        "; ".join(line_text(line) for line in _lines(item)),
        item.deferred_to.isoformat() if item.deferred_to else "",
        item.note,
    ]


def pack_csv(items: Iterable[AgendaItem]) -> str:
    """The agenda and what became of each item, one row per item, formula-escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for item in items:
        writer.writerow([escape_cell(cell) for cell in item_row(item)])
    return buffer.getvalue()


# --- PDF --------------------------------------------------------------------------------------


class _Pack(FPDF):
    def __init__(self, session: ReviewSession) -> None:
        super().__init__(format="A4")
        self.session_title = latin1(session.title)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(110)
        self.cell(0, 6, f"{self.session_title} - page {self.page_no()}", align="C")

    def heading(self, text: str, size: int = 12) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", size)
        self.set_text_color(20)
        self.multi_cell(0, size * 0.55, latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: str, *, style: str = "", size: int = 10, grey: bool = False) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(100 if grey else 30)
        self.multi_cell(0, size * 0.5, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _when(session: ReviewSession) -> str:
    return f"{timezone.localtime(session.scheduled_for):%d %b %Y, %H:%M}"


def pack_pdf(minutes: Minutes, *, scope: str, generated_at: dt.datetime | None = None) -> bytes:
    """The session pack as a PDF: the session, its agenda and its minutes."""
    session = minutes.session
    pdf = _Pack(session)
    pdf.set_title(latin1(session.title))
    pdf.set_creator("Govern")
    pdf.add_page()
    pdf.heading(session.title, size=16)
    chair = str(session.chair) if session.chair_id else "-"
    attendees = ", ".join(str(p) for p in session.attendees.all()) or "-"
    pdf.para(f"{session.get_cadence_display()} - {_when(session)} - {session.get_status_display()}")
    pdf.para(f"Scope: {scope}. Chair: {chair}. Attendees: {attendees}.", grey=True)
    stamp = timezone.localtime(generated_at or timezone.now())
    pdf.para(f"Pack printed {stamp:%d %b %Y, %H:%M}.", size=8, grey=True)

    pdf.heading("Agenda")
    if minutes.items:
        pdf.set_font("Helvetica", "", 8)
        pdf.set_text_color(30)
        widths = (8, 72, 28, 14, 30, 28)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.2) as table:
            header = table.row()
            for label in ("#", "Item", "Department", "Sev.", "Owner", "Outcome"):
                header.cell(label)
            for item in minutes.items:
                row = table.row()
                row.cell(str(item.position))
                row.cell(latin1(f"{item.title} ({item.get_kind_display().lower()})"))
                row.cell(latin1(item.department.name if item.department_id else "-"))
                row.cell(_severity(item) or "-")
                row.cell(latin1(_owner(item) or "-"))
                row.cell(latin1(item.get_outcome_display()))
    else:
        pdf.para("Nothing on the agenda: no open exception, decision due or contract at risk.")

    pdf.heading("Minutes")
    if session.minutes_summary:
        pdf.para(session.minutes_summary)
        pdf.ln(1)
    _section(pdf, "Decided", minutes.decided, _decided_text)
    _section(pdf, "Deferred", minutes.deferred, _deferred_text)
    _section(pdf, "Noted", minutes.noted, _noted_text)
    _section(pdf, "Still pending", minutes.pending, lambda item: [])
    return bytes(pdf.output())


def _section(pdf: _Pack, title: str, items: list[AgendaItem], details) -> None:
    pdf.heading(f"{title} ({len(items)})", size=11)
    if not items:
        pdf.para("None.", grey=True)
        return
    for item in items:
        pdf.para(f"{item.position}. {item.title}", style="B")
        for text in details(item):
            pdf.para(f"    {text}")
        pdf.ln(1)


def _decided_text(item: AgendaItem) -> list[str]:
    decision = item.outcome_decision
    if decision is None:
        return ["Decision no longer available."]
    status = decision.get_status_display().lower()
    texts = [f"D-{decision.pk} ({status}): {decision.title}", f"Chosen: {decision.chosen_option}"]
    who = decision.decided_by_name or f"proposed by {decision.proposed_by_name}"
    texts.append(f"Decided by: {who}. Owner: {_owner(item) or '-'}.")
    texts += [f"Reallocation: {line_text(line)}" for line in _lines(item)]
    return texts


def _deferred_text(item: AgendaItem) -> list[str]:
    when = f"{item.deferred_to:%d %b %Y}" if item.deferred_to else "-"
    texts = [f"Owner: {_owner(item) or '-'}. Comes back by {when}."]
    return [*texts, item.note] if item.note else texts


def _noted_text(item: AgendaItem) -> list[str]:
    return [item.note] if item.note else []
