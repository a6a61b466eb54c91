"""What models share besides columns: the SQLite id option, being audited, being owned by a unit.

Each model still declares its own ``unit_id`` column (foreign key, index and nullability differ), so
the columns are spelled in the model and the migrations, never here.
"""

# SQLite reuses the largest id after a delete unless told not to; ids name rows in the audit trail and
# the evidence chain, so a deleted row's id must never come back.
AUTOINCREMENT = {"sqlite_autoincrement": True}


class Audited:
    """A model whose every change the audit trail records (``app.audit``). Without ``UnitOwned`` its
    rows are global data (a calendar day, a task run): their audit rows name no unit."""

    def audit_unit_id(self):
        return None


class UnitOwned(Audited):
    """An audited row owned by a unit: the scope filters on ``__scope_column__`` (``app.scoping``) and its
    audit rows carry that unit, so whoever may see the row may see its history."""

    __scope_column__ = "unit_id"

    def audit_unit_id(self):
        return getattr(self, self.__scope_column__)
