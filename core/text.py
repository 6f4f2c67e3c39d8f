"""Small text helpers every app shares."""

from __future__ import annotations

from django.utils.translation import get_language


def localized_name(obj) -> str:
    """`name_en` when the active language is English and the row has one; `name` otherwise."""
    if obj is None:
        return ""
    name_en = getattr(obj, "name_en", "")
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return obj.name
