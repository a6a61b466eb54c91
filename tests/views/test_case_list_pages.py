"""The case list's pages in id order are read as ids first, then the rows (app/views/cases.py): every
page shows the rows, and in the order, that the plain ORDER BY id DESC … OFFSET … LIMIT gives, for
the subtree and the unit scope, to a page past the end."""
import datetime as dt
import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import AppUser, Case
from app.scoping import scope_for
from tests.factories import login, make_case


def _shown(client, url) -> list[int]:
    html = client.get(url).get_data(as_text=True)
    return list(dict.fromkeys(int(i) for i in re.findall(r"/cases/show/(\d+)", html)))


def test_every_page_shows_what_offset_paging_shows(app, office):
    for day in range(1, 8):  # enough cases in one subtree for several pages of three
        make_case(office, dt.date(2026, 3, day))
    db.session.commit()
    # The subtree and the unit scope: only this module's cases (other modules' cases, older versions
    # among them, are not all listed with a link of their own).
    for username in (office.sup.username, office.clerk.username):
        client = login(app.test_client(), username)
        user = db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()
        clause = scope_for(user).clause(Case.unit_id)
        total = db.session.execute(select(func.count()).select_from(Case).where(clause)).scalar()
        assert total >= 7
        last = (total - 1) // 3
        for page in sorted({0, 1, 2, last - 1, last, last + 1}):  # the list's own order: id descending
            want = list(db.session.execute(select(Case.id).where(clause).order_by(Case.id.desc())
                                           .offset(page * 3).limit(3)).scalars())
            got = _shown(client, f"/cases/list/?psize_CaseView=3&page_CaseView={page}")
            assert got == want and (got or page > last), (username, page)
