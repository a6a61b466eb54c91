"""单位选择 in Chromium: typing part of a unit's name in the statistics filter's unit field offers the units of
the user's scope (the self-hosted script, its scoped JSON, a <datalist>), and only those."""
from tests.web.support import CHROMIUM_ARGS, Walk

SCREENSHOT = "/tmp/shots/forms/unit_picker.png"


def test_the_unit_field_suggests_units_in_scope(chromium, app, world, live_server):
    from app.extensions import db
    from app.models import Unit

    executable, sync_playwright, expect = chromium
    with app.app_context():
        codes = {k: db.session.get(Unit, v).code for k, v in world.units.items()}
    tag = codes["root"].removesuffix("-ROOT")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = Walk(browser, live_server)
        with walk.failing(SCREENSHOT):
            walk.step("sup_a opens 统计分析 and types part of a unit name in 单位代码")
            page = walk.login(world.users["sup_a"])
            walk.goto("/statistics/")
            field = page.locator("#s-unit")
            list_id = field.get_attribute("list")
            assert list_id, "the unit field has no suggestion list: the script did not run"
            with page.expect_response(lambda r: "/unitpicker/search" in r.url) as answer:
                field.fill(tag)
            assert answer.value.status == 200
            options = page.locator(f"#{list_id} option")
            expect(options).to_have_count(2)
            offered = {options.nth(i).get_attribute("value") for i in range(options.count())}
            assert offered == {codes["a"], codes["a1"]}, offered  # not the root, not unit B
            assert world.names["a1"] in (page.locator(f"#{list_id}").inner_html())
            page.screenshot(path=SCREENSHOT)
            assert not walk.errors, walk.errors
