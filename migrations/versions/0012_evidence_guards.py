"""evidence guards: HMAC seals on submissions and signatures; TRUNCATE refused on evidence tables

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-04

Seals (app/record/evidence.py): ``submission_record.hmac`` / ``prev_hmac`` (one chain over all
submissions) and ``signature_record.record_hmac``, made with a key outside the database. The upgrade
seals the records already there with the install's key (run ``flask jishi verify`` before upgrading:
what is sealed now is taken as genuine). ``record_hmac`` joins the sealed columns of a signature.

PostgreSQL: a statement-level BEFORE TRUNCATE trigger on every append-only table, since the row
triggers of 0001/0002/0003/0007 do not fire on TRUNCATE. SQLite has no TRUNCATE (its
``DELETE FROM t`` fires the existing row triggers), so nothing is needed there.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every append-only table (0001 audit_log; 0002 submission/signature; 0003; 0007).
NO_TRUNCATE = ("audit_log", "submission_record", "signature_record", "evaluation_run", "rule_evaluation",
               "alarm_event", "case_review", "spot_check", "spot_check_item")
SEALED_BEFORE = ("case_id", "level", "signer_id", "signer_name", "post", "opinion", "signed_at",
                 "snapshot_sha256", "record_sha256", "unit_id")  # as 0002 made the trigger
SEALED_AFTER = SEALED_BEFORE + ("record_hmac",)
MSG = "提交与签字记录是证据，不能修改或删除"


def _pg():
    return op.get_bind().dialect.name == "postgresql"


def _signature_trigger(columns):
    """Re-create 0002's sealed-columns trigger on signature_record with ``columns``."""
    cols = ", ".join(columns)
    if _pg():
        op.execute("DROP TRIGGER IF EXISTS signature_record_sealed ON signature_record")
        op.execute(f"""CREATE TRIGGER signature_record_sealed BEFORE UPDATE OF {cols}
                       OR DELETE ON signature_record FOR EACH ROW EXECUTE FUNCTION jishi_evidence_immutable()""")
    else:
        op.execute("DROP TRIGGER IF EXISTS signature_record_no_update")
        op.execute(f"CREATE TRIGGER signature_record_no_update BEFORE UPDATE OF {cols} ON signature_record "
                   f"BEGIN SELECT RAISE(ABORT, '{MSG}'); END")


def _seal_existing():
    """Seal the records made before this revision, in id order, with the install's key (made now
    if there is none yet and there is anything to seal)."""
    bind = op.get_bind()
    subs = bind.execute(sa.text("SELECT id, case_id, root_id, node, sha256, content_sha256, prev_sha256 "
                                "FROM submission_record ORDER BY id")).all()
    sigs = bind.execute(sa.text("SELECT id, record_sha256 FROM signature_record ORDER BY id")).all()
    if not subs and not sigs:
        return
    from app.record import evidence  # the application's own message format and key

    key = evidence.load_key()  # migrations run inside the app (flask db upgrade)
    mac = evidence._mac
    for s in sigs:
        bind.execute(sa.text("UPDATE signature_record SET record_hmac = :h WHERE id = :id"),
                     {"h": mac(evidence.signature_message(s.record_sha256), key), "id": s.id})
    if _pg():
        op.execute("ALTER TABLE submission_record DISABLE TRIGGER submission_record_immutable")
    else:
        op.execute("DROP TRIGGER IF EXISTS submission_record_no_update")
    previous = None
    for s in subs:
        h = mac(evidence.submission_message(case_id=s.case_id, root_id=s.root_id, node=s.node, sha256=s.sha256,
                                            content_sha256=s.content_sha256, prev_sha256=s.prev_sha256,
                                            prev_hmac=previous), key)
        bind.execute(sa.text("UPDATE submission_record SET hmac = :h, prev_hmac = :p WHERE id = :id"),
                     {"h": h, "p": previous, "id": s.id})
        previous = h
    if _pg():
        op.execute("ALTER TABLE submission_record ENABLE TRIGGER submission_record_immutable")
    else:
        op.execute("CREATE TRIGGER submission_record_no_update BEFORE UPDATE ON submission_record "
                   f"BEGIN SELECT RAISE(ABORT, '{MSG}'); END")


def upgrade():
    op.add_column("submission_record", sa.Column("hmac", sa.String(length=64), nullable=True))
    op.add_column("submission_record", sa.Column("prev_hmac", sa.String(length=64), nullable=True))
    op.add_column("signature_record", sa.Column("record_hmac", sa.String(length=64), nullable=True))
    _seal_existing()
    _signature_trigger(SEALED_AFTER)
    if _pg():
        op.execute("""CREATE FUNCTION jishi_no_truncate() RETURNS trigger AS $$
                      BEGIN RAISE EXCEPTION '证据表 % 只能追加，不能清空（TRUNCATE）', TG_TABLE_NAME; END
                      $$ LANGUAGE plpgsql""")
        for table in NO_TRUNCATE:
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION jishi_no_truncate()")


def downgrade():
    if _pg():
        for table in NO_TRUNCATE:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS jishi_no_truncate()")
    _signature_trigger(SEALED_BEFORE)
    op.drop_column("signature_record", "record_hmac")
    op.drop_column("submission_record", "prev_hmac")
    op.drop_column("submission_record", "hmac")
