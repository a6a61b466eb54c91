"""Models. Import every model here so Alembic and the mappers see them all."""
from app.models.audit import AuditLog  # noqa: F401
from app.models.case import (  # noqa: F401
    MODULE_MODELS,
    Attachment,
    Batch,
    Case,
    CasePerson,
    Signature,
    Submission,
)
from app.models.deadlines import (  # noqa: F401
    CaseDeadline,
    Message,
    ReportFile,
    ReportSchedule,
    TaskRun,
)
from app.models.facts import FACT_KEYS, CaseFact  # noqa: F401
from app.models.people import PersonCorrection  # noqa: F401
from app.models.queries import ExportFile, SavedQuery  # noqa: F401
from app.models.rules import (  # noqa: F401
    Alarm,
    AlarmEvent,
    CalendarDay,
    CalendarYear,
    EvaluationRun,
    RuleEvaluation,
    RuleSetting,
)
from app.models.supervision import (  # noqa: F401
    AppointmentDocument,
    Finding,
    Notice,
    NoticeCase,
    Review,
    SpotCheck,
    SpotCheckItem,
)
from app.models.unit import Unit, UnitQuota  # noqa: F401
from app.models.user import AppUser  # noqa: F401
