"""The FAB user, extended with the unit it belongs to."""
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, event, inspect
from sqlalchemy.orm import relationship

from app.auth import hash_if_plain, new_token
from app.models.case import CasePerson
from app.models.mixins import UnitOwned


class AppUser(UnitOwned, User):
    __tablename__ = "ab_user"
    # sqlite_autoincrement: a deleted user's id is never reused (the audit trail is keyed by id).
    __table_args__ = {"extend_existing": True, "sqlite_autoincrement": True}
    # Login bookkeeping changes on every sign-in; it is not business data. The session token is a
    # secret that changes at every logout.
    __audit_exclude__ = {
        "login_count", "last_login", "fail_login_count", "changed_on", "created_on",
        "locked_until", "session_token",
    }
    __audit_redact__ = {"password"}

    unit_id = Column(Integer, ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    unit = relationship("Unit")
    locked_until = Column(DateTime)
    # Sessions and JWTs carry it; replacing it (logout, password change) ends them (app/auth.py).
    session_token = Column(String(64), default=new_token)

    def validate_write(self) -> list[str]:
        """Checked on every add and edit (the scoped views' check_write, and app.integrity at flush).
        Only a name being written: an older account's sign-in bookkeeping must still be saved."""
        state = inspect(self)
        if state.persistent and not (state.attrs.first_name.history.has_changes()
                                     or state.attrs.last_name.history.has_changes()):
            return []
        problem = full_name_problem(self.last_name, self.first_name)
        return [problem] if problem else []


def full_name_problem(last_name, first_name) -> str | None:
    """姓 + 名 is what a signature or submission records as the person of the case (签字人, 提交人),
    so it must fit that column: an account whose name does not could never sign or submit."""
    limit = CasePerson.__table__.c.name.type.length
    full = f"{(last_name or '').strip()}{(first_name or '').strip()}"
    if len(full) > limit:
        return f"姓名（姓+名）共 {len(full)} 个字符，不能超过 {limit} 个字符（签字、提交时记入案例）"
    return None


@event.listens_for(AppUser, "before_insert")
def _never_a_clear_password(_mapper, _connection, user):
    hash_if_plain(user)


@event.listens_for(AppUser, "before_update")
def _never_a_clear_password_change(_mapper, _connection, user):
    # Only a password being written: a stored value is never touched by an unrelated update.
    if inspect(user).attrs.password.history.has_changes():
        hash_if_plain(user)
