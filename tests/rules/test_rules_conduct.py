"""Issue 13, class 7: interventions (D12), recusal in the deciding body (C17), a body deciding above its
authority (D13). The base case is decided on 2026-02-12: 10 of 11 members present, 10 votes for."""
import datetime as dt

import pytest

from tests.factories import RuleCase, check

D = dt.date
INTERVENED = {"intervention_received": True, "intervention_record": "2026-01-10 某副区长电话询问人选情况",
              "intervention_reported_date": D(2026, 1, 12)}
RELATIVE = {"conflicted_members": 1, "recused_members": 1, "members_present": 10, "votes_for": 9}
KE = {"authority": "科级任免权"}

TABLE = [
    # D12 说情打招呼、插手干预未如实记录报告
    RuleCase("D12", "pass", note="none received"),
    RuleCase("D12", "na", {"intervention_received": None}, note="not answered"),
    RuleCase("D12", "pass", INTERVENED, note="recorded and reported"),
    RuleCase("D12", "pass", {**INTERVENED, "intervention_reported_date": D(2026, 2, 12)}, note="reported on decision day"),
    RuleCase("D12", "fail", {**INTERVENED, "intervention_reported_date": D(2026, 2, 13)}, severity="red",
             note="reported after the decision"),
    RuleCase("D12", "fail", {**INTERVENED, "intervention_record": None}, note="not recorded"),
    RuleCase("D12", "fail", {**INTERVENED, "intervention_reported_date": None}, note="not reported"),
    # C17 决策成员应回避未回避
    RuleCase("C17", "pass", note="no conflicted member"),
    RuleCase("C17", "na", {"conflicted_members": None}, note="not answered"),
    RuleCase("C17", "pass", RELATIVE, note="relative withdrew and did not vote"),
    RuleCase("C17", "fail", {**RELATIVE, "recused_members": 0}, severity="red", note="relative did not withdraw"),
    RuleCase("C17", "fail", {**RELATIVE, "recused_members": None}, severity="red", note="recusal not recorded"),
    RuleCase("C17", "fail", {**RELATIVE, "votes_for": 10}, severity="red", note="withdrawn member voted"),
    RuleCase("C17", "fail", {**RELATIVE, "recused_members": 2, "votes_for": 8}, severity="yellow",
             note="more withdrew than were conflicted"),
    RuleCase("C17", "pass", {**RELATIVE, "conflicted_members": 2, "recused_members": 2, "votes_for": 8},
             note="two withdrew exactly"),
    # D13 超越干部管理权限决定任用
    RuleCase("D13", "na", note="authority unknown"),
    RuleCase("D13", "fail", {"approval_route": "本级决定"}, unit=KE, severity="red", note="keji body decides chuji"),
    RuleCase("D13", "fail", unit=KE, note="keji body files a chuji decision"),
    RuleCase("D13", "pass", {"approval_route": "报上级审批"}, unit=KE, note="keji body sends it up"),
    RuleCase("D13", "pass", {"approval_route": "本级决定", "current_grade": "乡科级副职", "target_grade": "乡科级正职"},
             unit=KE, note="keji body decides zhengke"),
    RuleCase("D13", "fail", {"approval_route": "本级决定", "target_grade": "四级调研员"}, unit=KE,
             note="keji body decides a chuji zhiji"),
    RuleCase("D13", "pass", {"approval_route": "本级决定", "target_grade": "一级主任科员"}, unit=KE,
             note="keji body decides a keji zhiji"),
    RuleCase("D13", "pass", {"approval_route": "本级决定"}, unit={"authority": "处级任免权"}, note="chuji body"),
    RuleCase("D13", "fail", {"approval_route": "本级决定", "target_grade": "厅局级副职"},
             unit={"authority": "处级任免权"}, note="chuji body decides tingju"),
    RuleCase("D13", "fail", {"approval_route": "本级决定", "current_grade": "乡科级副职", "target_grade": "乡科级正职"},
             unit={"authority": "无"}, note="no authority"),
    RuleCase("D13", "na", {"approval_route": "本级决定", "selection_type": "免职"}, unit=KE, note="removal"),
    RuleCase("D13", "pass", {"approval_route": "本级决定"}, unit=KE,
             params={"authority_ceiling": {"科级任免权": "县处级正职"}}, note="region raises the ceiling"),
]


@pytest.mark.parametrize("rc", TABLE, ids=lambda rc: rc.id())
def test_rule(rc):
    check(rc)
