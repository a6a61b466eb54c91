"""FAB's related-field pickers with WTForms 3.3: the empty choice of an optional picker is rendered with its
value as its text (``<option value="__None">__None</option>``, WTForms prints ``label or value``). The empty
choice gets a blank that is not empty (a no-break space), so the picker shows nothing, as it meant to."""
from __future__ import annotations

from flask_appbuilder.fields import QuerySelectField

BLANK = "\u00a0"


def init_form_fixes() -> None:
    if getattr(QuerySelectField, "_jishi_blank", False):
        return
    original = QuerySelectField.iter_choices

    def iter_choices(self):
        for choice in original(self):
            if choice[0] == "__None" and not choice[1]:
                choice = (choice[0], BLANK, *choice[2:])
            yield choice

    QuerySelectField.iter_choices = iter_choices
    QuerySelectField._jishi_blank = True
