"""The selection case record (全程记实): one case per person per selection (一人一表), batches of
cases decided at one meeting (一批一档), one table per module with a typed column per item.

Module tables are built from app/spec (the 181 items), so a key is spelled once. Persons and
attachments are rows of their own; signatures and submissions are evidence rows that are never
updated in place (see app/workflow/cases.py and the migration's triggers).
"""
from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from app.models.audit import utcnow
from app.models.mixins import AUTOINCREMENT, UnitOwned
from app.spec import modules

STATUS_DRAFT = "草稿"
STATUS_FIRST = "已初次提交"
STATUS_SECOND = "已二次提交"
STATUS_RETURNED = "已退回补正"  # a superseded version: a correction continues in a new version
STATUSES = (STATUS_DRAFT, STATUS_FIRST, STATUS_SECOND, STATUS_RETURNED)

MODULE_STATES = ("未填", "填写中", "已完成", "有问题")


class Batch(UnitOwned, Model):
    """The cases one unit decided at one meeting: the meeting's data is entered once here."""

    __tablename__ = "batch"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    unit = relationship("Unit")
    title = Column(String(200), nullable=False)
    created_at = Column(DateTime, default=utcnow, nullable=False)
    # Batch-level items of module 7 (讨论决定); see app.spec.BATCH_ITEMS.
    decision_meeting_type = Column(String(40))
    decision_date = Column(Date, index=True)
    members_total = Column(Integer)
    members_present = Column(Integer)
    absent_opinion_collected = Column(Boolean)
    vote_method = Column(String(20))
    main_leader_last = Column(Boolean)
    decision_minutes_file_id = Column(Integer, ForeignKey("attachment.id", use_alter=True,
                                                          name="fk_batch_minutes_attachment"))

    cases = relationship("Case", back_populates="batch")

    def __repr__(self):
        return self.title


class Case(UnitOwned, Model):
    """One version of one person's selection case. A correction (退回补正) copies the case into a
    new version (previous_id → the old one); the old version is never changed again."""

    __tablename__ = "cadre_case"
    __table_args__ = (
        UniqueConstraint("case_no", "version_no", name="uq_case_no_version"),
        Index("ix_case_current_unit", "is_current", "unit_id"),
        Index("ix_case_unit_id_id", "unit_id", "id"),  # a subtree's list pages in id order (migration 0016)
        AUTOINCREMENT,
    )

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)  # reporting_unit
    unit = relationship("Unit")
    batch_id = Column(Integer, ForeignKey("batch.id"), index=True)
    batch = relationship("Batch", back_populates="cases")
    case_no = Column(String(40), nullable=False)
    version_no = Column(Integer, nullable=False, default=1)
    root_id = Column(Integer, index=True)  # the first version's id: the case across versions
    previous_id = Column(Integer, ForeignKey("cadre_case.id"))
    previous = relationship("Case", remote_side=[id])
    is_current = Column(Boolean, nullable=False, default=True)
    status = Column(String(10), nullable=False, default=STATUS_DRAFT)
    full_name = Column(String(30))  # mirrors qualification.full_name for lists (kept in sync on save)
    created_by_id = Column(Integer, ForeignKey("ab_user.id"))
    created_at = Column(DateTime, default=utcnow, nullable=False)
    return_reason = Column(Text)
    # The light of the latest rule evaluation (红/黄/绿), kept here so lists need no join.
    light = Column(String(6), index=True)

    persons = relationship("CasePerson", back_populates="case", cascade="all, delete-orphan",
                           order_by="CasePerson.position")
    signatures = relationship("Signature", back_populates="case", order_by="Signature.level")
    submissions = relationship("Submission", back_populates="case", order_by="Submission.id")

    def __repr__(self):
        return f"{self.case_no} {self.full_name or ''}".strip()

    def module_row(self, key: str):
        return getattr(self, f"m_{key}")


class CasePerson(UnitOwned, Model):
    """A person named in a case or a batch (``person`` items have position 0)."""

    __tablename__ = "case_person"
    __table_args__ = (Index("ix_case_person_owner", "case_id", "item_key"), AUTOINCREMENT)

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id", ondelete="CASCADE"))
    case = relationship("Case", back_populates="persons")
    batch_id = Column(Integer, ForeignKey("batch.id", ondelete="CASCADE"), index=True)
    item_key = Column(String(40), nullable=False)
    position = Column(Integer, nullable=False, default=0)
    name = Column(String(30), nullable=False)
    id_card_no = Column(String(18))
    post = Column(String(100))

    def __repr__(self):
        return self.name

    def as_dict(self) -> dict:
        out = {"name": self.name}
        if self.id_card_no:
            out["id_card_no"] = self.id_card_no
        if self.post:
            out["post"] = self.post
        return out


class Attachment(UnitOwned, Model):
    """An uploaded file for a ``file-ref`` item. Stored under a random name outside any public
    path and served only through the scoped download route; its SHA-256 is kept with it."""

    __tablename__ = "attachment"
    __table_args__ = (AUTOINCREMENT,)

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id", ondelete="SET NULL"), index=True)
    batch_id = Column(Integer, ForeignKey("batch.id", ondelete="SET NULL"), index=True)
    item_key = Column(String(40))
    filename = Column(String(200), nullable=False)
    content_type = Column(String(100))
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    storage_key = Column(String(64), nullable=False, unique=True)
    # False for a reference made by a JSON import: the name is known, the file not yet uploaded.
    has_content = Column(Boolean, nullable=False, default=True)
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    uploaded_at = Column(DateTime, default=utcnow, nullable=False)

    def __repr__(self):
        return self.filename


class Signature(UnitOwned, Model):
    """One of the three signatures, over the SHA-256 of the content the signer saw.
    ``record_sha256`` seals the row itself; a later change to the case voids the signature."""

    __tablename__ = "signature_record"
    __table_args__ = (AUTOINCREMENT,)

    LEVELS = {1: "选任工作部门分管负责人", 2: "选任工作部门主要领导", 3: "选任责任单位领导"}

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)
    case = relationship("Case", back_populates="signatures")
    level = Column(Integer, nullable=False)
    signer_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    signer_name = Column(String(64), nullable=False)
    post = Column(String(100), nullable=False)
    opinion = Column(String(20), nullable=False)
    signed_at = Column(DateTime, nullable=False, default=utcnow)
    snapshot_sha256 = Column(String(64), nullable=False)
    record_sha256 = Column(String(64), nullable=False)
    record_hmac = Column(String(64))  # HMAC of record_sha256 with a key outside the database (evidence.py)
    voided_at = Column(DateTime)
    void_reason = Column(String(200))

    @property
    def level_label(self):
        return self.LEVELS.get(self.level, str(self.level))


class Submission(UnitOwned, Model):
    """初次提交 (node 1) or 二次提交 (node 2): the canonical JSON snapshot of the case, its SHA-256,
    chained to the previous submission of the same case (across versions)."""

    __tablename__ = "submission_record"
    __table_args__ = (AUTOINCREMENT,)

    NODES = {1: "初次提交", 2: "二次提交"}

    id = Column(Integer, primary_key=True)
    unit_id = Column(Integer, ForeignKey("unit.id"), nullable=False, index=True)
    case_id = Column(Integer, ForeignKey("cadre_case.id"), nullable=False, index=True)
    case = relationship("Case", back_populates="submissions")
    root_id = Column(Integer, nullable=False, index=True)
    node = Column(Integer, nullable=False)
    submitted_at = Column(DateTime, nullable=False, default=utcnow)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    submitted_by_name = Column(String(64), nullable=False)
    snapshot = Column(Text, nullable=False)
    sha256 = Column(String(64), nullable=False)
    content_sha256 = Column(String(64), nullable=False)  # what the signers signed (modules 1–9)
    prev_sha256 = Column(String(64))
    # HMAC with a key kept outside the database, chained over all submissions in id order
    # (app/record/evidence.py): a writer who recomputes the SHA-256 hashes cannot recompute these.
    hmac = Column(String(64))
    prev_hmac = Column(String(64))

    @property
    def node_label(self):
        return self.NODES.get(self.node, str(self.node))


# ---- module tables, one per module, built from the spec ---------------------------------------

_SQL_TYPES = {
    "text": lambda: Text(),
    "int": lambda: Integer(),
    "date": lambda: Date(),
    "bool": lambda: Boolean(),
    "enum": lambda: String(100),
    "enum*": lambda: JSON(),
}

MODULE_MODELS: dict[str, type] = {}

# Per module, the columns the statistics (app/queries/columns.py) and the query export read: an index
# on the case id holding them lets a year's statistics read narrow index ranges instead of the tables
# (migration 0008, bench/queries.py).
STATS_INDEX_COLUMNS = {
    "qualification": ("sex", "ethnicity", "political_status", "birth_date", "full_time_education",
                      "part_time_education"),
    "motion": ("selection_type", "target_grade", "selection_method", "is_breaking_rule", "is_skip_level",
               "approved_quota", "current_incumbents"),
    "recommendation": ("recommendation_required", "talk_reco_date", "meeting_reco_done", "reused_reco_date"),
    "inspection": ("inspection_object_count",),
    "consultation": ("prior_report_required", "prior_report_reply"),
    "publicity": ("publicity_start", "complaints_count", "publicity_result"),
    "appointment": ("appointment_doc_date", "probation_applicable", "probation_review_result"),
}


def _camel(key: str) -> str:
    return "".join(p.capitalize() for p in key.split("_"))


def _build_module_model(spec):
    attrs = {
        "__tablename__": f"case_{spec.key}",
        "__module_key__": spec.key,
        "__table_args__": (*([Index(f"ix_case_{spec.key}_stats", "case_id", *STATS_INDEX_COLUMNS[spec.key])]
                               if spec.key in STATS_INDEX_COLUMNS else []), AUTOINCREMENT),
        "id": Column(Integer, primary_key=True),
        "case_id": Column(Integer, ForeignKey("cadre_case.id", ondelete="CASCADE"), nullable=False, unique=True),
        "unit_id": Column(Integer, ForeignKey("unit.id"), nullable=False, index=True),
        # Responsibility per step: who handled it and which leader answers for it.
        "handler": Column(String(30)),
        "leader": Column(String(30)),
        "state": Column(String(10), nullable=False, default="未填"),
        "completed_at": Column(DateTime),
        "__repr__": lambda self: f"{spec.name} #{self.case_id}",
    }
    for item in spec.items:
        if item.batch_level or item.key in ("case_no", "reporting_unit"):
            continue  # on Batch or on Case
        if item.kind in _SQL_TYPES:
            attrs[item.key] = Column(item.key, _SQL_TYPES[item.kind](), comment=item.label)
        elif item.kind == "file-ref":
            attrs[f"{item.key}_id"] = Column(Integer, ForeignKey("attachment.id"), comment=item.label)
        elif item.kind == "unit":
            attrs[f"{item.key}_id"] = Column(Integer, ForeignKey("unit.id"), comment=item.label)
            attrs[item.key] = relationship("Unit", foreign_keys=f"Case{_camel(spec.key)}.{item.key}_id")
        # person and person[] items are CasePerson rows
    model = type(f"Case{_camel(spec.key)}", (UnitOwned, Model), attrs)
    MODULE_MODELS[spec.key] = model
    setattr(Case, f"m_{spec.key}", relationship(model, uselist=False, cascade="all, delete-orphan",
                                                  backref="case"))
    return model


for _spec in modules():
    _build_module_model(_spec)


def now() -> datetime:
    return utcnow()
