"""CSRF: with protection on (as in production), every form POST without the token is refused with
a Chinese page and writes nothing; FAB's REST API stays usable (it exempts itself)."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import Case
from tests.factories import PASSWORD, csrf_login as login


def cases(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(Case.id))).scalar()


def test_a_post_without_the_token_is_refused_and_writes_nothing(csrf_app, app, world):
    client = login(csrf_app.test_client(), world.users["clerk_a"])
    before = cases(app)
    resp = client.post("/cases/new")
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    assert cases(app) == before


def test_the_login_form_needs_its_token(csrf_app, world):
    resp = csrf_app.test_client().post("/login/", data={"username": world.users["clerk_a"], "password": PASSWORD})
    assert resp.status_code == 400 and "安全令牌" in resp.get_data(as_text=True)


def test_the_rest_api_is_exempt_and_still_scoped(csrf_app, world):
    client = login(csrf_app.test_client(), world.users["clerk_b"])
    resp = client.get("/api/v1/case/")
    assert resp.status_code == 200
