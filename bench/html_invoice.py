"""The reference many Flask apps use: the same invoice as HTML, rendered to PDF by WeasyPrint
(table header repeated by <thead>, "Page N of M" by CSS page counters, same DejaVu font)."""

from __future__ import annotations

from html import escape

from tracker.documents.data import InvoiceDocument
from tracker.documents.fonts import FONT_DIR
from tracker.presentation import format_money, format_number, long_date

CSS = """
@font-face { font-family: DejaVu; src: url("%(regular)s"); }
@font-face { font-family: DejaVu; font-weight: bold; src: url("%(bold)s"); }
@page { size: A4; margin: 14mm 16mm 18mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font: bold 7pt DejaVu; }
  @bottom-left { content: "%(footer)s"; font: 7pt DejaVu; color: #4c6272; } }
body { font: 8pt DejaVu; color: #212b32; }
h1 { color: #005eb8; text-align: right; font-size: 22pt; margin: 0; }
.parties { display: flex; justify-content: space-between; }
table.lines { width: 100%%; border-collapse: collapse; margin-top: 12pt; }
table.lines th { background: #e8edee; font-size: 7pt; text-align: left; padding: 4pt; }
table.lines td { padding: 3pt 4pt; border-bottom: 0.4pt solid #d8dde0; vertical-align: top; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr.incident td { background: #f0f4f5; font-weight: bold; font-size: 9pt; }
tr.kind td { font-weight: bold; border: none; }
tr.subtotal td { font-weight: bold; border-top: 0.6pt solid #212b32; }
.working { color: #4c6272; font-size: 7pt; }
.totals { margin-left: auto; width: 220pt; margin-top: 8pt; }
.totals .due { background: #005eb8; color: white; font-weight: bold; }
.draft { position: fixed; top: 40%%; left: 15%%; font-size: 110pt; color: rgba(212,0,0,.13);
  transform: rotate(-50deg); }
"""


def _e(value: object) -> str:
    return escape(str(value))


def invoice_html(doc: InvoiceDocument) -> str:
    supplier, customer, payment = doc.supplier, doc.customer, doc.payment
    footer = f"{doc.supplier.name} · {doc.title} {doc.number or 'DRAFT'}".replace('"', "'")
    css = CSS % {
        "regular": (FONT_DIR / "DejaVuSans.ttf").as_uri(),
        "bold": (FONT_DIR / "DejaVuSans-Bold.ttf").as_uri(),
        "footer": _e(footer),
    }
    out = [f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head><body>"]
    if doc.draft:
        out.append("<div class='draft'>DRAFT</div>")
    out.append("<div class='parties'><div>")
    out.append(f"<h2>{_e(supplier.name)}</h2>")
    out += [f"<div>{_e(line)}</div>" for line in supplier.address_lines]
    out.append(
        f"<div>ODS code: {_e(supplier.ods_code)}</div><div>Email: {_e(supplier.email)}"
        f"</div><div>Phone: {_e(supplier.phone)}</div></div><div>"
    )
    out.append(f"<h1>{_e(doc.title)}</h1><table>")
    meta = [
        ("Invoice number", doc.number or "DRAFT"),
        ("Issue date", long_date(doc.issue_date)),
        ("Supply dates", f"{long_date(doc.supply_from)} to {long_date(doc.supply_to)}"),
        ("Due date", long_date(doc.due_date)),
    ]
    out += [f"<tr><td>{_e(k)}</td><td><b>{_e(v)}</b></td></tr>" for k, v in meta]
    out.append("</table></div></div><div class='parties'><div><b>Bill to</b>")
    out.append(f"<h3>{_e(customer.name)}</h3>")
    out += [f"<div>{_e(line)}</div>" for line in customer.address_lines]
    out.append(
        f"<div>ODS code: {_e(customer.ods_code)}</div>"
        f"<b>Purchase order / reference: {_e(doc.po_reference or 'Not given')}</b></div>"
    )
    out.append(f"<div><b>Total due</b><h2>{format_money(doc.total)}</h2></div></div>")
    out.append(
        "<table class='lines'><thead><tr><th>Date</th><th>Description and working</th>"
        "<th class='n'>Qty</th><th>Unit</th><th class='n'>Rate</th><th class='n'>VAT</th>"
        "<th class='n'>Net amount</th></tr></thead><tbody>"
    )
    incident = kind = None
    group: list = []

    def subtotal() -> None:
        if group:
            vat = sum(line.vat for line in group)
            net = sum(line.net for line in group)
            out.append(
                f"<tr class='subtotal'><td></td><td colspan='4' class='n'>Subtotal, "
                f"{_e(kind.lower())}</td><td class='n'>{format_money(vat)}</td>"
                f"<td class='n'>{format_money(net)}</td></tr>"
            )
            group.clear()

    for line in doc.lines:
        if line.incident_title != incident:
            subtotal()
            incident, kind = line.incident_title, None
            out.append(f"<tr class='incident'><td colspan='7'>Incident: {_e(incident)}</td></tr>")
        if line.kind_label != kind:
            subtotal()
            kind = line.kind_label
            out.append(f"<tr class='kind'><td colspan='7'>{_e(kind)}</td></tr>")
        group.append(line)
        vat = "No VAT" if line.vat_rate is None else format_money(line.vat)
        out.append(
            f"<tr><td>{long_date(line.line_date)}</td><td>{_e(line.description)}"
            f"<div class='working'>{_e(line.working)}</div></td>"
            f"<td class='n'>{format_number(line.quantity)}</td><td>{_e(line.unit)}</td>"
            f"<td class='n'>{format_money(line.unit_rate)}</td><td class='n'>{vat}</td>"
            f"<td class='n'>{format_money(line.net)}</td></tr>"
        )
    subtotal()
    out.append("</tbody></table><table class='totals'>")
    out.append(
        f"<tr><td>Net total</td><td class='n'>{format_money(doc.net_total)}</td></tr>"
        f"<tr><td>VAT total</td><td class='n'>{format_money(doc.vat_total)}</td></tr>"
        f"<tr class='due'><td>Total due</td><td class='n'>{format_money(doc.total)}</td>"
        "</tr></table>"
    )
    if doc.vat_statement:
        out.append(f"<h3>VAT</h3><p>{_e(doc.vat_statement)}</p>")
    out.append(
        f"<h3>Payment details</h3><p>Account name: {_e(payment.account_name)}<br>"
        f"Sort code: {_e(payment.sort_code)}<br>Account number: "
        f"{_e(payment.account_number)}<br>Remittance advice to: "
        f"{_e(payment.remittance_email)}</p><h3>Evidence attached</h3><ul>"
    )
    out += [f"<li>{_e(item)}</li>" for item in doc.evidence]
    out.append(f"</ul><h3>Notes</h3><p>{_e(doc.notes)}</p></body></html>")
    return "".join(out)


def build_weasyprint_pdf(doc: InvoiceDocument) -> bytes:
    from weasyprint import HTML  # the bench extra; imported only when measured

    return HTML(string=invoice_html(doc)).write_pdf()
