"""The API's path converters, registered once for every app's URL module that imports this one."""

from django.urls import register_converter


class CaseReferenceConverter:
    """PREFIX-YYYYMM-NNNNNN; anything else never reaches a view (404 from the resolver)."""

    regex = r"[A-Za-z0-9_]{1,6}-[0-9]{6}-[0-9]{6,9}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter:
    """A primary key that fits a 64-bit column, so a huge number is a 404 and never an overflow."""

    regex = r"[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


class CodeConverter:
    """A department or process code (slug)."""

    regex = r"[-A-Za-z0-9_]{1,50}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseReferenceConverter, "case_ref")
register_converter(IdConverter, "api_id")
register_converter(CodeConverter, "api_code")
