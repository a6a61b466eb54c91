"""The case workflow on the real database: three-level signing, the two submissions and their hash
chain, the lock on submitted cases (service, ORM), correction into a new version, and verification
(service and `flask jishi verify`) including tampering below the application.

Each test builds its own case with its own users; the procedure dates of each case are shifted by a
test-specific number of days so that no two cases share a meeting batch.
"""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import acting_as
from app.extensions import db
from app.integrity import ValidationFailed
from app.models import Attachment, Case, CasePerson, Signature, Submission
from app.workflow import submission as wf
from app.workflow import guard
from app.workflow import verification
from app.workflow import cases
from app.record.data import canonical_json, content_hash, export_case, read_case, sha256_text
from app.workflow.cases import CaseError
from app.spec import MODULE_KEYS
from tests.factories import (
    AGREE, POSTS, build_case, case_values, sign_all, tamper, to_first_submission, to_second_submission, unique,
)

PRE_SIGN = MODULE_KEYS[:7]
def messages(exc_info) -> str:
    return "；".join(p.message for p in exc_info.value.problems)


def refused(fn, *args):
    with pytest.raises(CaseError) as exc:
        fn(*args)
    db.session.rollback()
    return messages(exc)


def commit_refused(who):
    """Commit the pending ORM change as ``who`` (a label: a user object would autoflush when read)."""
    with acting_as(who, "cli"), pytest.raises(guard.CaseLocked) as exc:
        db.session.commit()
    db.session.rollback()
    assert isinstance(exc.value, CaseError) and isinstance(exc.value, ValidationFailed)
    return messages(exc)


# ---- happy path ----------------------------------------------------------------------------------

def test_sign_pledge_submit_twice_with_linked_hash_chain(team):
    case, values = build_case(team)
    sign_all(case, team)
    sigs = wf.active_signatures(case)
    assert sorted(sigs) == [1, 2, 3]
    signed_hash = content_hash(case)
    for level, sig in sigs.items():
        assert sig.snapshot_sha256 == signed_hash
        assert sig.signer_id == getattr(team, f"s{level}").id and sig.post == POSTS[level]
        assert sig.record_sha256 == sha256_text(canonical_json({
            "case_id": case.id, "level": level, "signer_id": sig.signer_id, "signer_name": sig.signer_name,
            "post": sig.post, "opinion": sig.opinion, "signed_at": sig.signed_at.isoformat(),
            "snapshot_sha256": sig.snapshot_sha256}))
    sig_module = read_case(case)["signature"]
    assert sig_module["sig2_signer"] == {"name": team.s2.username, "post": POSTS[2]}
    assert sig_module["sig3_post"] == POSTS[3] and sig_module["sig3_opinion"] == AGREE
    assert sig_module["sig1_signed_at"] == dt.date.today()

    with acting_as(team.clerk, "cli"):
        wf.set_pledge(case, team.clerk, True)
        first = wf.submit(case, team.clerk, 1)
    assert case.status == "已初次提交"
    assert first.node == 1 and first.root_id == case.root_id == case.id and first.prev_sha256 is None
    assert first.sha256 == sha256_text(first.snapshot)
    assert first.content_sha256 == signed_hash
    assert json.loads(first.snapshot) == export_case(case)
    sub_module = read_case(case)["submission"]
    assert sub_module["first_submitted_at"] == dt.date.today()
    assert sub_module["first_submitter"] == {"name": team.clerk.username}
    # The base case was decided long ago, so today's report is late: the status says so.
    decided = case.batch.decision_date
    assert sub_module["first_submit_status"] == ("逾期提交" if dt.date.today() > decided + dt.timedelta(days=5)
                                                 else "按时提交")
    assert case.module_row("signature").state == "已完成"

    with acting_as(team.clerk, "cli"):
        for key in ("publicity", "appointment"):
            cases.save_module(case, key, values[key], handler="经办人甲", leader="领导乙")
            cases.complete_module(case, key)
        second = wf.submit(case, team.clerk, 2)
    assert case.status == "已二次提交"
    assert second.node == 2 and second.prev_sha256 == first.sha256 and second.root_id == case.root_id
    assert second.sha256 == sha256_text(second.snapshot)
    assert second.content_sha256 == content_hash(case) != first.content_sha256  # 公示、任职 added
    doc = case.module_row("appointment").appointment_doc_date
    assert read_case(case)["submission"]["second_submit_status"] == (
        "逾期提交" if dt.date.today() > doc + dt.timedelta(days=5) else "按时提交")
    # The signatures stay with the first submission: filling 公示 and 任职 does not void them.
    assert all(s.voided_at is None for s in case.signatures)
    assert verification.verify_all([case.root_id]) == []


# ---- signing refusals ----------------------------------------------------------------------------

def test_signing_refusals(team):
    case, _ = build_case(team)
    with acting_as(team.s2, "cli"):
        assert "请先由第 1 级" in refused(wf.sign, case, team.s2, 2, POSTS[2], AGREE)
    with acting_as(team.clerk, "cli"):
        assert "创建人不能为本案例签字" in refused(wf.sign, case, team.clerk, 1, POSTS[1], AGREE)
    with acting_as(team.plain, "cli"):
        assert "不是签字领导" in refused(wf.sign, case, team.plain, 1, POSTS[1], AGREE)
    with acting_as(team.signer_b, "cli"):
        assert "须属于本案例的选任责任单位" in refused(wf.sign, case, team.signer_b, 1, POSTS[1], AGREE)
    with acting_as(team.s1, "cli"):
        problems = refused(wf.sign, case, team.s1, 1, "", "同意")
        assert "请填写签字人职务" in problems and "签署意见应为" in problems
        assert "签字级别" in refused(wf.sign, case, team.s1, 4, POSTS[1], AGREE)
        wf.sign(case, team.s1, 1, POSTS[1], AGREE)
        assert "已由" in refused(wf.sign, case, team.s1, 1, POSTS[1], AGREE)
        assert "三名不同的领导" in refused(wf.sign, case, team.s1, 2, POSTS[2], AGREE)
    with acting_as(team.s3, "cli"):
        assert "请先由第 2 级" in refused(wf.sign, case, team.s3, 3, POSTS[3], AGREE)
    assert [s.level for s in case.signatures] == [1]


def test_nobody_signs_before_modules_1_to_7_are_complete(team):
    case, _ = build_case(team, complete=PRE_SIGN[:6])
    with acting_as(team.s1, "cli"):
        problems = refused(wf.sign, case, team.s1, 1, POSTS[1], AGREE)
    assert "“讨论决定”尚未完成" in problems
    assert db.session.query(Signature).filter_by(case_id=case.id).count() == 0


def test_a_return_opinion_blocks_the_next_level_and_submission(team):
    case, _ = build_case(team)
    with acting_as(team.s1, "cli"):
        wf.sign(case, team.s1, 1, POSTS[1], "退回修改")
    with acting_as(team.s2, "cli"):
        assert "请修改案例后重新签字" in refused(wf.sign, case, team.s2, 2, POSTS[2], AGREE)


# ---- submission refusals -------------------------------------------------------------------------

def test_submission_refusals(team):
    case, values = build_case(team)
    with acting_as(team.clerk, "cli"):
        problems = refused(wf.submit, case, team.clerk, 1)
        assert "缺少第 1 级" in problems and "缺少第 3 级" in problems and "真实性承诺" in problems
        assert "案例当前状态为“草稿”" in refused(wf.submit, case, team.clerk, 2)
        assert "提交节点" in refused(wf.submit, case, team.clerk, 3)
    sign_all(case, team)
    with acting_as(team.clerk, "cli"):
        problems = refused(wf.submit, case, team.clerk, 1)
        assert problems == "尚未作出填报内容真实性承诺"
    with acting_as(team.signer_b, "cli"):
        assert "只有本单位的填报员或签字领导" in refused(wf.set_pledge, case, team.signer_b, True)
    with acting_as(team.clerk, "cli"):
        wf.set_pledge(case, team.clerk, True)
    with acting_as(team.s1, "cli"):
        assert "只有本单位的填报员可以初次提交" in refused(wf.submit, case, team.s1, 1)
    assert case.status == "草稿" and db.session.query(Submission).filter_by(case_id=case.id).count() == 0
    with acting_as(team.plain, "cli"):
        wf.submit(case, team.plain, 1)
        problems = refused(wf.submit, case, team.plain, 2)
    assert "“公示”尚未完成" in problems and "“任职”尚未完成" in problems
    with acting_as(team.plain, "cli"):
        assert "案例当前状态为“已初次提交”" in refused(wf.submit, case, team.plain, 1)


def test_a_change_after_signing_voids_the_signatures_and_blocks_submission(team):
    case, values = build_case(team)
    sign_all(case, team)
    with acting_as(team.clerk, "cli"):
        wf.set_pledge(case, team.clerk, True)
        cases.save_module(case, "nomination", {"nomination_scope": "全区县处级副职干部"})
    sigs = db.session.query(Signature).filter_by(case_id=case.id).order_by(Signature.level).all()
    assert [s.void_reason for s in sigs] == [wf.VOID_REASON] * 3
    assert all(s.voided_at is not None for s in sigs)
    assert wf.active_signatures(case) == {}
    assert all(read_case(case)["signature"][f"sig{n}_signer"] is None for n in (1, 2, 3))
    with acting_as(team.clerk, "cli"):
        cases.complete_module(case, "nomination")
        problems = refused(wf.submit, case, team.clerk, 1)
    assert "缺少第 1 级" in problems
    # The same signers sign the new content; the voided rows stay as evidence.
    sign_all(case, team)
    with acting_as(team.clerk, "cli"):
        sub = wf.submit(case, team.clerk, 1)
    assert sub.content_sha256 == content_hash(case)
    assert db.session.query(Signature).filter_by(case_id=case.id).count() == 6
    assert verification.verify_all([case.root_id]) == []


def test_a_stale_signature_found_at_submission_is_refused(team):
    """A change that bypassed save_module (no voiding) is still caught by the hash comparison."""
    case, _ = build_case(team)
    sign_all(case, team)
    with acting_as(team.clerk, "cli"):
        wf.set_pledge(case, team.clerk, True)
        case.module_row("qualification").native_place = "河北石家庄"
        db.session.commit()
        problems = refused(wf.submit, case, team.clerk, 1)
    assert "签字后案例内容已变更，请重新签字" in problems


# ---- the lock ------------------------------------------------------------------------------------

def test_after_first_submission_modules_1_to_7_are_locked_on_every_path(team):
    case, values, _ = to_first_submission(team)
    with acting_as(team.clerk, "cli"):
        assert "已锁定" in refused(cases.save_module, case, "nomination", {"nomination_scope": "改"})
        assert "已锁定" in refused(cases.complete_module, case, "nomination")

    case.module_row("nomination").nomination_scope = "直接改数据库对象"
    assert "“初始提名”已锁定" in commit_refused("填报员")
    assert read_case(case)["nomination"]["nomination_scope"] == values["nomination"]["nomination_scope"]

    case.module_row("qualification").state = "填写中"
    assert "已锁定" in commit_refused("填报员")
    person = db.session.query(CasePerson).filter_by(case_id=case.id, item_key="nominee_list").first()
    person.name = "冒名"
    assert "已锁定" in commit_refused("填报员")
    case.persons.append(CasePerson(unit_id=case.unit_id, item_key="inspection_team", position=9, name="新增"))
    assert "已锁定" in commit_refused("填报员")
    other = db.session.query(Attachment).filter(Attachment.case_id == case.id, Attachment.item_key == "work_plan_file").one()
    case.module_row("motion").motion_meeting_minutes_id = other.id
    assert "已锁定" in commit_refused("填报员")
    other.filename = "换了的文件.pdf"
    assert "已锁定" in commit_refused("填报员")
    case.status = "草稿"
    assert "已锁定" in commit_refused("填报员")
    case.batch.vote_method = "无记名投票"
    assert "批次的会议信息已锁定" in commit_refused("填报员")

    # 公示 and 任职 stay open until 二次提交, through the service and the ORM alike.
    with acting_as(team.clerk, "cli"):
        cases.save_module(case, "publicity", values["publicity"], handler="经办人甲", leader="领导乙")
        cases.complete_module(case, "publicity")
        case.module_row("publicity").publicity_scope = "区政府网站"
        db.session.commit()
    assert read_case(case)["publicity"]["publicity_scope"] == "区政府网站"
    assert case.module_row("publicity").state == "已完成"
    assert verification.verify_all([case.root_id]) == []


def test_after_second_submission_everything_is_locked(team):
    case, values, _, _ = to_second_submission(team)
    with acting_as(team.clerk, "cli"):
        for key in MODULE_KEYS:
            if key not in ("signature", "submission"):
                assert "已锁定" in refused(cases.save_module, case, key, values[key])
    case.module_row("appointment").appointment_doc_no = "改〔2026〕1号"
    assert "“任职”已锁定" in commit_refused("填报员")
    case.module_row("publicity").publicity_scope = "改"
    assert "“公示”已锁定" in commit_refused("填报员")
    case.module_row("submission").review_result = "通过"
    assert "已锁定" in commit_refused("填报员")
    case.module_row("signature").authenticity_pledge = False
    assert "已锁定" in commit_refused("填报员")
    case.full_name = "改名"
    assert "已锁定" in commit_refused("填报员")
    db.session.delete(db.session.query(CasePerson).filter_by(case_id=case.id, item_key="appointment_talk_by").one())
    assert "已锁定" in commit_refused("填报员")
    db.session.delete(case)
    assert "不能删除" in commit_refused("填报员")
    assert case.batch is not None
    batch_person = db.session.query(CasePerson).filter_by(batch_id=case.batch_id, item_key="presenter").one()
    batch_person.post = "改"
    assert "批次的会议信息已锁定" in commit_refused("填报员")
    with acting_as(team.s1, "cli"):
        assert "不能签字" in refused(wf.sign, case, team.s1, 1, POSTS[1], AGREE)
    with acting_as(team.clerk, "cli"):
        assert "修改真实性承诺" in refused(wf.set_pledge, case, team.clerk, False)


def test_workflow_write_passes_the_lock_and_resets(team):
    case, _, _ = to_first_submission(team)
    with acting_as(team.clerk, "cli"), pytest.raises(RuntimeError):
        with guard.workflow_write():
            assert db.session.info[guard.WORKFLOW_FLAG] is True
            raise RuntimeError
    assert guard.WORKFLOW_FLAG not in db.session.info
    with acting_as("测试", "cli"), guard.workflow_write():
        case.module_row("submission").review_result = "待审"
        db.session.commit()
    assert read_case(case)["submission"]["review_result"] == "待审"


def test_only_the_transaction_creating_a_case_writes_its_signature_module(team):
    """An import fills every module of the case it creates (in one transaction); afterwards the
    signature and submission modules of a draft are written by the workflow only."""
    from app.record.data import new_case, write_values

    values = case_values(team.unit)
    with acting_as(team.clerk, "cli"):
        case = new_case(team.unit, team.clerk)
        db.session.add(case)
        db.session.flush()
        case.root_id = case.id
        write_values(case, "signature", values["signature"])
        from app.alarms.derived import derive

        derive(case)  # as every path that creates a case does
        db.session.commit()
    assert read_case(case)["signature"]["authenticity_pledge"] is True
    case.module_row("signature").authenticity_pledge = False
    assert "草稿" in commit_refused("填报员")
    case.module_row("submission").first_submit_status = "按时提交"
    assert "“报送/备案”已锁定" in commit_refused("填报员")
    with acting_as(team.clerk, "cli"):
        assert "已锁定" in refused(cases.save_module, case, "signature", {"authenticity_pledge": False})


def test_a_draft_in_a_batch_with_a_submitted_case_saves_the_same_meeting(team):
    """Batch persons are rewritten on every save of 讨论决定: only a real change is refused."""
    case, values, _ = to_first_submission(team)
    with acting_as(team.clerk, "cli"):
        other = cases.create_case(team.unit, team.clerk)
        values["motion"]["case_no"] = other.case_no
        for key in PRE_SIGN:
            cases.save_module(other, key, values[key], handler="经办人甲", leader="领导乙")
        assert other.batch_id == case.batch_id
        changed = {**values["decision"], "presenter": {"name": "另一位汇报人"}}
        assert "批次的会议信息已锁定" in refused(cases.save_module, other, "decision", changed)


# ---- correction ----------------------------------------------------------------------------------

def test_return_for_correction_creates_a_linked_new_version(team):
    case, values, first, second = to_second_submission(team)
    before = export_case(case)
    old_id = case.id
    with acting_as(team.clerk, "cli"):
        assert "只有监督员或系统管理员" in refused(wf.return_for_correction, case, team.clerk, "材料不全")
    with acting_as(team.sup_b, "cli"):
        assert "不在您的监督范围内" in refused(wf.return_for_correction, case, team.sup_b, "材料不全")
    with acting_as(team.sup, "cli"):
        assert "请填写退回补正的理由" in refused(wf.return_for_correction, case, team.sup, " ")
        new = wf.return_for_correction(case, team.sup, "考察材料不完整")
    old = db.session.get(Case, old_id)
    assert (old.status, old.is_current) == ("已退回补正", False)
    assert export_case(old) == before == json.loads(second.snapshot)
    assert (new.version_no, new.case_no, new.root_id, new.previous_id) == (2, old.case_no, old.root_id, old.id)
    assert (new.status, new.is_current, new.unit_id, new.batch_id) == ("草稿", True, old.unit_id, old.batch_id)
    assert new.return_reason == "考察材料不完整" and new.created_by_id == old.created_by_id
    for key in MODULE_KEYS:
        a, b = old.module_row(key), new.module_row(key)
        if key in ("signature", "submission"):
            assert b.state == "未填" and all(v in (None, []) for v in read_case(new)[key].values())
        else:
            assert (b.state, b.handler, b.leader) == (a.state, a.handler, a.leader) == ("已完成", "经办人甲", "领导乙")
            assert read_case(new)[key] == read_case(old)[key]
    assert new.module_row("inspection").inspection_report_file_id == old.module_row("inspection").inspection_report_file_id
    assert {p.id for p in new.persons}.isdisjoint({p.id for p in old.persons})
    assert wf.diff_versions(old, new, modules=MODULE_KEYS[:9]) == []
    with acting_as(team.sup, "cli"):
        assert "已被新版本取代" in refused(wf.return_for_correction, old, team.sup, "再退")
        assert "案例当前状态为“草稿”" in refused(wf.return_for_correction, new, team.sup, "再退")

    # The old version never changes again; the new one is a draft to correct.
    old.module_row("inspection").interview_count = 99
    assert "已被新版本取代" in commit_refused("填报员")
    with acting_as(team.clerk, "cli"):
        cases.save_module(new, "inspection", {"interview_count": 31})
        cases.complete_module(new, "inspection")
    diff = wf.diff_versions(old, new, modules=MODULE_KEYS[:9])
    assert diff == [{"module": "inspection", "key": "interview_count", "label": "个别谈话人数", "old": 30, "new": 31}]
    assert any(d["module"] == "signature" for d in wf.diff_versions(old, new))

    # Fresh signatures over the corrected content, then a re-submission chained to version 1's last one.
    with acting_as(team.clerk, "cli"):
        assert "缺少第 1 级" in refused(wf.submit, new, team.clerk, 1)
    sign_all(new, team)
    with acting_as(team.clerk, "cli"):
        wf.set_pledge(new, team.clerk, True)
        resubmitted = wf.submit(new, team.clerk, 1)
    assert resubmitted.root_id == old.root_id and resubmitted.case_id == new.id
    assert resubmitted.prev_sha256 == second.sha256
    assert read_case(new)["submission"]["first_submit_status"] == "补正后提交"
    assert verification.verify_all([old.root_id]) == []


# ---- verification and tampering ---------------------------------------------------------------------

def test_evidence_triggers_block_update_and_delete(team):
    case, _, sub = to_first_submission(team)
    sig = wf.active_signatures(case)[1]
    for sql in (f"UPDATE submission_record SET snapshot = 'x' WHERE id = {sub.id}",
                f"DELETE FROM submission_record WHERE id = {sub.id}",
                f"UPDATE signature_record SET signer_name = 'x' WHERE id = {sig.id}",
                f"UPDATE signature_record SET snapshot_sha256 = 'x' WHERE id = {sig.id}",
                f"DELETE FROM signature_record WHERE id = {sig.id}"):
        with pytest.raises(DBAPIError) as exc:
            db.session.execute(text(sql))
        assert "证据" in str(exc.value)
        db.session.rollback()
    # Voiding is the one change a signature allows.
    db.session.execute(text(f"UPDATE signature_record SET void_reason = 'x' WHERE id = {sig.id}"))
    db.session.rollback()


def test_verify_reports_tampering_below_the_application(app, team):
    case, _, first, second = to_second_submission(team)
    root = case.root_id
    assert verification.verify_all([root]) == []
    result = app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", case.case_no])
    assert result.exit_code == 0, result.output
    assert "全部 2 份提交与 3 个签字校验通过" in result.output

    original = first.snapshot
    tamper("submission_record", "UPDATE submission_record SET snapshot = :s WHERE id = :id",
           s=original.replace(team.s1.username, "篡改者"), id=first.id)
    breaks = verification.verify_all([root])
    assert [(b["case_id"], b["case_no"], b["kind"]) for b in breaks] == [(case.id, case.case_no, "submission_hash")]
    assert "篡改" in breaks[0]["message"]
    assert any(b["case_id"] == case.id for b in verification.verify_all())
    for args in (["--case-no", case.case_no], []):
        result = app.test_cli_runner().invoke(args=["jishi", "verify", *args])
        assert result.exit_code == 1
        assert case.case_no in result.output and "提交快照已被篡改" in result.output
        assert "校验未通过" in result.output
    tamper("submission_record", "UPDATE submission_record SET snapshot = :s WHERE id = :id", s=original, id=first.id)
    assert verification.verify_all([root]) == []

    sig = wf.active_signatures(case)[2]
    tamper("signature_record", "UPDATE signature_record SET signer_name = '替签人' WHERE id = :id", id=sig.id)
    breaks = verification.verify_all([root])
    assert [(b["case_id"], b["case_no"], b["kind"]) for b in breaks] == [(case.id, case.case_no, "signature_record")]
    result = app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", case.case_no])
    assert result.exit_code == 1 and "签字记录已被篡改" in result.output
    tamper("signature_record", "UPDATE signature_record SET signer_name = :n WHERE id = :id",
           n=team.s2.username, id=sig.id)
    assert verification.verify_all([root]) == []


def test_verify_reports_a_broken_chain_and_a_voided_signer(team):
    case, _, first, second = to_second_submission(team)
    tamper("submission_record", "UPDATE submission_record SET prev_sha256 = :p WHERE id = :id", p="0" * 64, id=second.id)
    assert [b["kind"] for b in verification.verify_all([case.root_id])] == ["chain"]
    tamper("submission_record", "UPDATE submission_record SET prev_sha256 = :p WHERE id = :id", p=first.sha256, id=second.id)
    # Voiding a signature the first submission relied on (allowed by the trigger) is reported too.
    sig = wf.active_signatures(case)[3]
    db.session.execute(text("UPDATE signature_record SET voided_at = :t, void_reason = 'x' WHERE id = :id"),
                       {"t": dt.datetime(2026, 1, 1), "id": sig.id})
    db.session.commit()
    breaks = verification.verify_all([case.root_id])
    assert [(b["case_no"], b["kind"]) for b in breaks] == [(case.case_no, "signature_snapshot")]
    assert "第 3 级" in breaks[0]["message"]


def test_verify_unknown_case_number(app, ctx):
    result = app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", unique("无此编号")])
    assert result.exit_code != 0 and "不存在" in result.output
