def test_login_page_is_chinese(app):
    resp = app.test_client().get("/login/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "登录" in html


def test_world_login(client_for, world):
    client = client_for("clerk_a")
    resp = client.get("/unitview/list/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert world.names["a"] in html
    assert world.names["b"] not in html
