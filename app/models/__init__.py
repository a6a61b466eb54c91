"""Models. Import every model here so Alembic and the mappers see them all."""
from app.models.audit import AuditLog  # noqa: F401
from app.models.case import MODULE_MODELS, Attachment, Batch, Case, CasePerson, Signature, Submission  # noqa: F401
from app.models.custom_item import CustomItem, CustomValue  # noqa: F401
from app.models.custom_rules import CustomRuleVersion  # noqa: F401
from app.models.deadlines import CaseDeadline, Message, ReportFile, ReportSchedule, TaskRun  # noqa: F401
from app.models.facts import FACT_KEYS, CaseFact  # noqa: F401
from app.models.people import PersonCorrection  # noqa: F401
from app.models.queries import ExportFile, SavedQuery  # noqa: F401
from app.models.rules import Alarm, AlarmEvent, CalendarDay, CalendarYear, EvaluationRun, RuleEvaluation, RuleSetting  # noqa: F401
from app.models.supervision import AppointmentDocument, Finding, Notice, NoticeCase, Review, SpotCheck, SpotCheckItem  # noqa: F401
from app.models.unit import Unit, UnitQuota  # noqa: F401
from app.models.user import AppUser  # noqa: F401
