"""Open sets of kinds that several apps fill: each app registers the kinds it owns (their value and
label, and what else its readers need of a kind) at import, and a model field reads them as its
`choices` through a module-level function.

Django deconstructs a callable `choices` by reference (`Field.deconstruct` keeps the function of a
`CallableChoiceIterator`), so the migrations name the function and adding a kind needs no migration.
Admin filters, forms, `get_<field>_display` and the OpenAPI enum call it when they are used, after
every app is loaded.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.functional import Promise


class Kinds:
    """value → label (and extras, e.g. the timeline's sentence of an event kind), in the order added."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self._labels: dict[str, Promise | str] = {}
        self._extras: dict[str, dict[str, Any]] = {}

    def add(self, value: str, label: Promise | str, **extras: Any) -> str:
        """Register one kind; returns its value, to be named by a constant of the owner."""
        if len(value) > self.max_length:
            raise ValueError(f"the kind {value!r} is longer than {self.max_length} characters")
        if self._labels.setdefault(value, label) is not label:
            raise ValueError(f"the kind {value!r} is registered already")
        self._extras[value] = extras
        return value

    def add_choices(self, choices: type[models.TextChoices]) -> type[models.TextChoices]:
        """Register every member of a TextChoices of the owning app (usable as a class decorator)."""
        for member in choices:
            self.add(member.value, member.label)
        return choices

    def choices(self) -> list[tuple[str, Promise | str]]:
        return list(self._labels.items())

    @property
    def values(self) -> list[str]:
        return list(self._labels)

    def detail(self, value: str, name: str, default: Any = None) -> Any:
        return self._extras.get(value, {}).get(name, default)
