"""X rules (一致性/伪报, X01–X17): one table of rows over the base case (tests/factories.py: valid_case, RuleCase)."""
import datetime as dt


from app.rules.catalog import all_rules
from tests.factories import CANDIDATE_ID, RuleCase, make_id, rule_tests

D = dt.date
BAD_CHECK = CANDIDATE_ID[:17] + ("0" if CANDIDATE_ID[17] != "0" else "1")
ALL_PROCEDURE_DATES = ("motion_meeting_date", "nomination_date", "talk_reco_date", "meeting_reco_date",
                       "inspection_object_date", "inspection_start", "inspection_end", "decision_date",
                       "first_submitted_at", "publicity_start", "publicity_end", "appointment_doc_date",
                       "second_submitted_at")

TABLE = [
    # X01 format, region code, birth date.
    RuleCase("X01", "pass", note="base"),
    RuleCase("X01", "fail", {"id_card_no": CANDIDATE_ID[:17]}, severity="red", note="17 characters"),
    RuleCase("X01", "fail", {"id_card_no": CANDIDATE_ID[:17] + "x"}, note="lower-case x"),
    RuleCase("X01", "fail", {"id_card_no": make_id("999999", "19800315", "123")}, note="unknown region code"),
    RuleCase("X01", "fail", {"id_card_no": make_id("110101", "19800230", "123")}, note="30 February"),
    RuleCase("X01", "fail", {"id_card_no": make_id("110101", "20260701", "123")}, note="born after today"),
    RuleCase("X01", "fail", {"id_card_no": make_id("110101", "18991231", "123")}, note="born before 1900"),
    RuleCase("X01", "pass", {"id_card_no": BAD_CHECK}, note="check char is X02's"),
    RuleCase("X01", "na", {"id_card_no": None}, note="no id"),
    # X02 check character.
    RuleCase("X02", "pass", note="base"),
    RuleCase("X02", "fail", {"id_card_no": "110105194912310021"}, severity="red", note="catalogue example"),
    RuleCase("X02", "pass", {"id_card_no": "11010519491231002X"}, note="valid X check char"),
    RuleCase("X02", "fail", {"id_card_no": BAD_CHECK}, note="wrong digit"),
    RuleCase("X02", "na", {"id_card_no": "11010519491231002"}, note="bad format"),
    # X03 birth date vs the ID (by month by default).
    RuleCase("X03", "pass", note="base"),
    RuleCase("X03", "fail", {"birth_date": D(1980, 4, 15)}, severity="red", note="a month later"),
    RuleCase("X03", "fail", {"birth_date": D(1975, 8, 1), "id_card_no": make_id("110101", "19740812", "123")},
             note="catalogue example"),
    RuleCase("X03", "pass", {"birth_date": D(1980, 3, 1)}, note="same month"),
    RuleCase("X03", "fail", {"birth_date": D(1980, 3, 1)}, params={"compare_granularity": "day"},
             note="day granularity"),
    RuleCase("X03", "na", {"birth_date": None}, note="no birth date"),
    RuleCase("X03", "na", {"id_card_no": "123"}, note="bad id"),
    # X04 sex vs digit 17.
    RuleCase("X04", "pass", note="base 男 odd"),
    RuleCase("X04", "fail", {"sex": "女"}, severity="red", note="女 with odd digit"),
    RuleCase("X04", "pass", {"sex": "女", "id_card_no": make_id("110101", "19800315", "124")}, note="女 even digit"),
    RuleCase("X04", "fail", {"id_card_no": make_id("110101", "19800315", "124")}, note="男 even digit"),
    RuleCase("X04", "na", {"sex": None}, note="no sex"),
    # X05 work age ≥ 16.
    RuleCase("X05", "pass", note="base"),
    RuleCase("X05", "fail", {"birth_date": D(1980, 5, 10), "work_start_date": D(1995, 9, 1)}, severity="red",
             note="catalogue example"),
    RuleCase("X05", "pass", {"birth_date": D(1980, 5, 10), "work_start_date": D(1996, 5, 10)}, note="exactly 16"),
    RuleCase("X05", "fail", {"birth_date": D(1980, 5, 10), "work_start_date": D(1996, 5, 9)}, note="a day short"),
    RuleCase("X05", "na", {"work_start_date": None}, note="no work start"),
    # X06 party dates (born 1980-03-15).
    RuleCase("X06", "pass", note="base one year"),
    RuleCase("X06", "fail", {"party_join_date": D(1997, 6, 1), "party_full_member_date": D(1997, 6, 1)},
             severity="red", note="catalogue example joined at 17"),
    RuleCase("X06", "pass", {"party_join_date": D(1998, 3, 15), "party_full_member_date": D(1999, 3, 15)},
             note="joined on the 18th birthday"),
    RuleCase("X06", "fail", {"party_join_date": D(1998, 3, 14), "party_full_member_date": D(1999, 3, 14)},
             severity="red", note="a day before 18"),
    RuleCase("X06", "fail", {"party_full_member_date": D(2003, 6, 1)}, severity="yellow", note="转正 same day"),
    RuleCase("X06", "fail", {"party_full_member_date": D(2004, 5, 31)}, severity="yellow",
             note="a day short of a year"),
    RuleCase("X06", "pass", {"party_full_member_date": D(2005, 6, 1)}, note="exactly 2 years (extended 预备期)"),
    RuleCase("X06", "fail", {"party_full_member_date": D(2005, 6, 2)}, severity="yellow", note="over 2 years"),
    RuleCase("X06", "pass", {"party_full_member_date": D(2005, 12, 1)}, params={"probation_years_range": [1, 3]},
             note="catalogue range 1-3"),
    RuleCase("X06", "pass", {"party_full_member_date": None}, note="预备党员 age only"),
    RuleCase("X06", "na", {"party_join_date": None, "party_full_member_date": None}, note="not a member"),
    # X07 career dates and resume.
    RuleCase("X07", "pass", note="base"),
    RuleCase("X07", "fail", {"current_grade_date": D(2020, 1, 1)}, severity="red", note="grade after post"),
    RuleCase("X07", "fail", {"work_start_date": D(2018, 7, 1)}, note="work start after grade"),
    RuleCase("X07", "fail", {"current_post_date": D(2026, 7, 1)}, note="post date in future"),
    RuleCase("X07", "pass", {"current_grade_date": D(2019, 12, 20)}, note="grade and post same day"),
    RuleCase("X07", "fail", {"resume": "2002.07–2010.12 区发展改革委科员\n2010.06–2018.05 区发展改革委综合科科长"},
             note="resume periods overlap"),
    RuleCase("X07", "fail", {"resume": "2001.07–2010.12 区发展改革委科员\n2011.01– 区发展改革委副主任"},
             note="resume before work start"),
    RuleCase("X07", "fail", {"resume": "2002.07–2010.12 区发展改革委科员\n2011.01–2010.05 区发展改革委综合科科长"},
             note="resume period ends before it starts"),
    RuleCase("X07", "fail", {"resume": "2002.07–2027.01 区发展改革委科员"}, note="resume in future"),
    RuleCase("X07", "pass", {"current_post_date": D(2026, 6, 30)}, note="post date today"),
    RuleCase("X07", "pass", {"current_grade_date": None, "resume": None}, note="two dates only"),
    RuleCase("X07", "pass", {"resume": "2002.07–2002.07 区发展改革委见习\n2002.08–2026.06 区发展改革委科员"},
             note="one-month period, ends this month"),
    RuleCase("X07", "fail", {"resume": "2002.07–2010.12 区发展改革委科员\n2010.11– 区发展改革委综合科科长"},
             note="overlap after a December end"),
    RuleCase("X07", "fail", {"resume": "2002.07–2010.12 区发展改革委科员\n2010.01–2011.05 区发展改革委综合科科长"},
             note="overlap from a January start"),
    RuleCase("X07", "pass", {"resume": "2002.07–2010.13 区发展改革委科员\n2010.01–2011.05 区发展改革委综合科科长"},
             note="a line with month 13 is not a period"),
    RuleCase("X07", "na", {"work_start_date": None, "current_grade_date": None, "current_post_date": None,
                           "resume": None}, note="nothing to compare"),
    # X08 procedure date chain.
    RuleCase("X08", "pass", note="base"),
    RuleCase("X08", "fail", {"inspection_end": D(2026, 2, 13)}, severity="red", note="inspection ends after decision"),
    RuleCase("X08", "pass", {"meeting_reco_date": D(2026, 1, 18)}, note="会议推荐 before 谈话 allowed"),
    RuleCase("X08", "fail", {"meeting_reco_date": D(2026, 1, 27)}, note="recommendation after 考察对象"),
    RuleCase("X08", "pass", {"nomination_date": None, "inspection_object_date": None}, note="nulls skipped"),
    RuleCase("X08", "fail", {"nomination_date": None, "talk_reco_date": D(2026, 1, 9)},
             note="null skipped, compared with motion"),
    RuleCase("X08", "fail", {"publicity_start": D(2026, 2, 11)}, note="publicity before decision"),
    RuleCase("X08", "fail", {"second_submitted_at": D(2026, 3, 1)}, note="second submission before document"),
    RuleCase("X08", "fail", {"first_submitted_at": D(2026, 2, 11)}, note="first submission before decision"),
    RuleCase("X08", "pass", {"decision_date": D(2026, 2, 6), "publicity_start": D(2026, 2, 6)},
             note="same days allowed"),
    RuleCase("X08", "na", {k: None for k in ALL_PROCEDURE_DATES}, note="no dates"),
    RuleCase("X08", "pass", {**{k: None for k in ALL_PROCEDURE_DATES}, "motion_meeting_date": D(2026, 1, 10),
                             "decision_date": D(2026, 2, 12)}, note="two dates"),
    RuleCase("X08", "fail", {**{k: None for k in ALL_PROCEDURE_DATES}, "motion_meeting_date": D(2026, 2, 13),
                             "decision_date": D(2026, 2, 12)}, note="two dates reversed"),
    RuleCase("X08", "na", {**{k: None for k in ALL_PROCEDURE_DATES}, "decision_date": D(2026, 2, 12)},
             note="one date"),
    # X09 谈话调研推荐 counts.
    RuleCase("X09", "pass", note="base"),
    RuleCase("X09", "fail", {"talk_reco_actual": 30, "talk_reco_votes": 35}, severity="red", note="catalogue example"),
    RuleCase("X09", "pass", {"talk_reco_actual": 45, "talk_reco_votes": 45}, note="all equal"),
    RuleCase("X09", "fail", {"talk_reco_actual": 46}, note="actual over expected"),
    RuleCase("X09", "fail", {"talk_reco_rank": 0}, note="rank 0"),
    RuleCase("X09", "na", {"talk_reco_expected": None, "talk_reco_actual": None, "talk_reco_votes": None,
                           "talk_reco_rank": None}, note="no talk"),
    # X10 会议推荐 ballots.
    RuleCase("X10", "pass", note="base"),
    RuleCase("X10", "fail", {"ballots_issued": 50, "ballots_returned": 52}, severity="red", note="catalogue example"),
    RuleCase("X10", "pass", {"ballots_returned": 57, "ballots_valid": 57, "meeting_reco_votes": 57}, note="all equal"),
    RuleCase("X10", "fail", {"meeting_reco_expected": 0, "meeting_reco_actual": 0, "ballots_issued": 0,
                             "ballots_returned": 0, "ballots_valid": 0, "meeting_reco_votes": 0}, note="expected 0"),
    RuleCase("X10", "fail", {"meeting_reco_actual": 61}, note="actual over expected"),
    RuleCase("X10", "pass", {"meeting_reco_expected": 1, "meeting_reco_actual": 1, "ballots_issued": 1,
                             "ballots_returned": 1, "ballots_valid": 1, "meeting_reco_votes": 1}, note="expected 1"),
    RuleCase("X10", "fail", {"meeting_reco_votes": 57}, note="votes over valid"),
    RuleCase("X10", "na", {k: None for k in ("meeting_reco_expected", "meeting_reco_actual", "ballots_issued",
                                             "ballots_returned", "ballots_valid", "meeting_reco_votes")},
             note="no meeting"),
    # X11 测评 sum (base 40+14+2+0 = 56 of 57).
    RuleCase("X11", "pass", note="base"),
    RuleCase("X11", "fail", {"eval_participants": 40, "eval_excellent": 30, "eval_competent": 10, "eval_basic": 1},
             severity="red", note="catalogue example 41 of 40"),
    RuleCase("X11", "pass", {"eval_participants": 56}, note="exactly equal"),
    RuleCase("X11", "fail", {"eval_participants": 55}, note="one over"),
    RuleCase("X11", "na", {"eval_participants": None}, note="no participants"),
    # X12 votes (base 11 members, 10 present, 10+0+0 by 举手表决).
    RuleCase("X12", "pass", note="base"),
    RuleCase("X12", "fail", {"members_present": 7, "votes_for": 8}, severity="red", note="catalogue example 8 of 7"),
    RuleCase("X12", "fail", {"members_present": 12}, severity="red", note="present over total"),
    RuleCase("X12", "fail", {"votes_for": 9}, severity="yellow", note="举手 sum below present"),
    RuleCase("X12", "pass", {"votes_for": 9, "vote_method": "无记名投票"}, note="secret ballot sum below present"),
    RuleCase("X12", "na", {"members_present": None, "votes_for": None, "votes_against": None, "votes_defer": None},
             note="no votes"),
    # X13 quota (base quota 1, 0 in post; org_unit 县处级正职 quota 1).
    RuleCase("X13", "pass", note="base"),
    RuleCase("X13", "fail", {"approved_quota": 2, "current_incumbents": 3}, target_unit={"quotas": {"县处级正职": 2}},
             severity="yellow", note="catalogue example"),
    RuleCase("X13", "pass", {"approved_quota": 2, "current_incumbents": 2}, target_unit={"quotas": {"县处级正职": 2}},
             note="full, not over"),
    RuleCase("X13", "fail", {"approved_quota": 2}, note="differs from org_unit"),
    RuleCase("X13", "pass", {"approved_quota": 2}, target_unit={"quotas": {}}, note="org_unit has no figure"),
    RuleCase("X13", "na", {"approved_quota": None}, note="no quota"),
    # X14 grassroots months ≤ months worked (to the decision 2026-02-12).
    RuleCase("X14", "pass", note="base"),
    RuleCase("X14", "fail", {"work_start_date": D(2018, 2, 12), "grassroots_months": 120}, severity="red",
             note="catalogue example 120 after 8 years"),
    RuleCase("X14", "pass", {"work_start_date": D(2018, 2, 12), "grassroots_months": 96}, note="exactly 96"),
    RuleCase("X14", "fail", {"work_start_date": D(2018, 2, 12), "grassroots_months": 97}, note="97"),
    RuleCase("X14", "pass", {"work_start_date": D(2018, 6, 30), "grassroots_months": 96, "decision_date": None},
             note="to today before a decision"),
    RuleCase("X14", "na", {"grassroots_months": None}, note="no months"),
    # X15 probation end = notice + 12 months ± 3 days (base notice 2026-03-02, end 2027-03-02).
    RuleCase("X15", "pass", note="base"),
    RuleCase("X15", "fail", {"appointment_doc_date": D(2025, 3, 1), "probation_end": D(2025, 12, 31)},
             severity="yellow", note="catalogue example"),
    RuleCase("X15", "pass", {"probation_end": D(2027, 3, 5)}, note="3 days late"),
    RuleCase("X15", "fail", {"probation_end": D(2027, 3, 6)}, note="4 days late"),
    RuleCase("X15", "pass", {"probation_end": D(2027, 2, 27)}, note="3 days early"),
    RuleCase("X15", "na", {"probation_end": None}, note="no probation"),
    # X16 edited after submission.
    RuleCase("X16", "pass", note="base"),
    RuleCase("X16", "fail", related={"changed_after_submission": True}, severity="red", note="changed"),
    RuleCase("X16", "pass", {"review_result": "退回补正"}, related={"changed_after_submission": True},
             note="changed after 退回补正"),
    RuleCase("X16", "na", {"first_submitted_at": None}, related={"changed_after_submission": True},
             note="not submitted"),
    # X17 parallel open cases.
    RuleCase("X17", "pass", note="base"),
    RuleCase("X17", "fail", related={"parallel_open": 1}, severity="yellow", note="one other open case"),
    RuleCase("X17", "na", {"id_card_no": None}, related={"parallel_open": 1}, note="no id"),
]


X_CODES = [f"X{n:02d}" for n in range(1, 18)]
test_rule, test_base_case_is_not_a_hit, _ = rule_tests(TABLE, X_CODES)


def test_every_x_rule_is_registered():
    rules = all_rules()
    assert set(X_CODES) <= set(rules)
    for code in X_CODES:
        assert rules[code].fn.__doc__ and rules[code].fn.__module__ == "app.rules.x"
