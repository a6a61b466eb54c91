"""The full enabled rule set over generated cases, in one process.

    .venv/bin/python bench/rules.py [--cases 5000]

Generates green, yellow and red cases by varying the demo case (dates, votes, counts, people), each with
the person's and the unit's history the cross-case rules read, loads the calendar,
the settings and the unit facts once (batched reads), then evaluates every case at every point
and prints cases per second and the median time per case. Target: ≥ 2,000 cases/s on one core.
It then times the same cases with 20 custom rules (CEL conditions, app/rules/custom.py) on top of the
catalogue: the whole set must still make ≥ 2,000 cases/s.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def generated_cases(n: int, seed: int = 7):
    from app.alarms.engine import flat_values
    from app.record.data import from_exchange

    template = json.load(open(os.path.join(os.path.dirname(__file__), "..", "app/demo/demo_case.json"),
                              encoding="utf-8"))
    base, problems = from_exchange(template)
    assert not problems, problems
    base = flat_values(base)
    # The demo case is complete but for the signatures (P41) and files its 备案 two days before the notice
    # (T05): fixed here, so that the profiles below give green, yellow and red cases and every path is timed.
    decided = base["decision_date"]
    for i, (name, post) in enumerate((("孙立新", "区委组织部副部长"), ("赵卫东", "区委常委、组织部部长"),
                                      ("周志刚", "区委书记")), start=1):
        base.update({f"sig{i}_signer": {"name": name, "post": post}, f"sig{i}_post": post,
                     f"sig{i}_opinion": "情况属实同意报送", f"sig{i}_signed_at": decided + dt.timedelta(days=i)})
    base["authenticity_pledge"] = True
    late_filing = base["approval_submit_date"]
    base["approval_submit_date"] = base["appointment_doc_date"] - dt.timedelta(days=35)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        case = copy.deepcopy(base)
        shift = dt.timedelta(days=rng.randint(-900, 0))
        for key, value in case.items():
            if isinstance(value, dt.date) and key not in ("birth_date", "work_start_date"):
                case[key] = value + shift
        profile = PROFILES[i % len(PROFILES)]
        total = case["members_total"]
        if profile == "red":  # free variation: quorum, majority, grassroots and signatures go wrong
            case["members_present"] = rng.randint(6, total)
            case["votes_for"] = rng.randint(3, case["members_present"])
            case["grassroots_months"] = rng.randint(0, 60)
            if rng.random() < 0.3:
                case["sig3_signer"] = None
        else:  # lawful variation
            case["members_present"] = rng.randint(-(-total * 2 // 3), total)
            case["votes_for"] = case["members_present"]
            case["grassroots_months"] = rng.randint(24, 60)
        if profile == "yellow":
            case["approval_submit_date"] = late_filing + shift  # T05: 备案 not a month ahead
        case["interview_count"] = rng.randint(3, 40)
        out.append((case, _history(case, profile, i, rng)))
    return out


def _history(case: dict, profile: str, i: int, rng):
    """What the engine would gather of other cases (person and unit), so the cross-case rules (X18, X19,
    D03, D14) do their work: two earlier cases of the person, the unit's earlier meetings, and a departure
    of someone of the unit decided later. Red cases sometimes carry a moved 参加工作时间."""
    from app.rules.context import Related

    earlier = {"case_no": f"B-{i}-1", "root_id": 1, "status": "已二次提交",
               "decision_date": case["decision_date"] - dt.timedelta(days=900), "decision_result": "通过",
               "selection_type": "提拔", "target_grade": case["current_grade"], "target_post": case["current_post"],
               "appointment_effective_date": case["current_post_date"], "formal_appointment_date": None,
               "is_breaking_rule": False, "current_post": "某科科长", "current_post_date": None,
               **{k: case[k] for k in ("full_name", "birth_date", "work_start_date", "party_join_date",
                                       "full_time_education")}}
    older = dict(earlier, case_no=f"B-{i}-0", root_id=0, decision_date=earlier["decision_date"] - dt.timedelta(days=1200),
                 target_post="某科副科长", appointment_effective_date=None)
    if profile == "red" and rng.random() < 0.3:
        earlier["work_start_date"] = case["work_start_date"] + dt.timedelta(days=730)
    departure = {"case_no": f"L-{i}", "root_id": 2, "current_post": "某单位党组成员、副局长", "selection_type": "平级交流/转任",
                 "target_post": "另一单位副局长", "motion_meeting_date": case["decision_date"] - dt.timedelta(days=40),
                 "inspection_notice_date": None, "inspection_start": None,
                 "decision_date": case["decision_date"] + dt.timedelta(days=20)}
    return Related(same_person=[earlier, older], root_id=10, batch_size=rng.randint(1, 4), unit_name="某单位",
                   leader_departures=[departure], unit_batch_sizes=[2, 3, 1, 2])


# 20 custom rules of the kinds a province writes: dates through the calendar, counts, choices, history.
CUSTOM_CONDITIONS = [
    "workdays(inspection_notice_date, publicity_end) <= 40",
    "decision_date == null || decision_date >= motion_meeting_date",
    "members_present * 3 >= members_total * 2",
    "votes_for * 2 > members_present",
    "days(publicity_start, publicity_end) >= 5",
    "years(birth_date, judged_on) < 60",
    "grassroots_months >= 24 || selection_type != '提拔'",
    "size(person_cases.filter(c, c.decision_result == '未通过')) == 0",
    "person_cases.all(c, c.work_start_date == work_start_date)",
    "batch_size <= 10",
    "interview_count >= 3",
    "add_workdays(decision_date, 20) >= publicity_end",
    "!is_breaking_rule || breaking_rule_reason != null",
    "target_grade in ['县处级正职', '县处级副职', '乡科级正职', '乡科级副职', '厅局级副职']",
    "unit.region_code == null || unit.region_code.size() == 6",
    "work_start_date < decision_date",
    "party_join_date == null || party_join_date > birth_date",
    "is_working_day(decision_date) || decision_meeting_type != '党委常委会'",
    "months(current_post_date, decision_date) >= 12 || selection_type != '提拔'",
    "person_cases.exists(c, c.case_no.startsWith('B-')) || size(person_cases) == 0",
]


def custom_rules():
    from app.rules import expression
    from app.rules.custom import CustomRule

    out = []
    for n, text in enumerate(CUSTOM_CONDITIONS, start=1):
        problems = expression.check(text)
        assert not problems, (text, [str(p) for p in problems])
        out.append(CustomRule(code=f"Z{n:02d}", version_no=1, title=f"自定义规则{n}", category="P", severity="yellow",
                              points=frozenset({"E", "S1", "S2", "D"}), basis="基准测试", expression=text))
    return out


PROFILES = ("green", "green", "green", "green", "yellow", "yellow", "yellow", "red", "red", "red")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("JISHI_INSTANCE_DIR", tempfile.mkdtemp(prefix="jishi-bench-"))

    from flask_migrate import upgrade

    import config
    from app import create_app
    from app.alarms.engine import evaluate_values, unit_facts
    from app.rule_settings import load_calendar, settings_for
    from app.rules.catalog import all_rules

    url = f"sqlite:///{os.environ['JISHI_INSTANCE_DIR']}/bench.db"
    boot = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with boot.app_context():
        upgrade()
    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    cases = generated_cases(args.cases)
    with app.app_context():
        t0 = time.perf_counter()
        calendar = load_calendar()  # one query
        settings = settings_for(None, dt.date.today())  # one query
        facts = (unit_facts(None), unit_facts(None))
        load = time.perf_counter() - t0
        enabled = sum(1 for r in all_rules().values() if r.enabled_by_default)
        times, lights = [], {"红": 0, "黄": 0, "绿": 0}
        start, cpu = time.perf_counter(), time.process_time()
        for values, related in cases:
            t = time.perf_counter()
            result = evaluate_values(values, None, as_of=values["decision_date"] + dt.timedelta(days=3), calendar=calendar,
                                     settings=settings, related=related, facts=facts, custom=[])
            times.append(time.perf_counter() - t)
            lights[result.light] += 1
        total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
        # Baseline in the same run (machines are noisy): the same cases with no history, so the
        # cross-case rules find nothing to compare; the ratio is what the history costs.
        empty = type(cases[0][1])()
        start = time.perf_counter()
        for values, _related in cases:
            evaluate_values(values, None, as_of=values["decision_date"] + dt.timedelta(days=3), calendar=calendar,
                            settings=settings, related=empty, facts=facts, custom=[])
        baseline = time.perf_counter() - start
        # The whole set: the catalogue and 20 custom rules per case (rules loaded once, like the settings).
        # Timed case by case against the catalogue alone, alternately, so both see the same machine (a busy
        # shared machine swings a separate run by ±30 %): the ratio is the figure, the rates are this machine's.
        custom = custom_rules()
        alone, whole, custom_hits = [], [], 0
        for i, (values, related) in enumerate(cases):
            as_of = values["decision_date"] + dt.timedelta(days=3)
            for with_custom in ((False, True) if i % 2 else (True, False)):
                related.memo.clear()  # what one evaluation derived must not speed up the other
                t = time.process_time()
                result = evaluate_values(values, None, as_of=as_of, calendar=calendar, settings=settings,
                                         related=related, facts=facts, custom=custom if with_custom else [])
                (whole if with_custom else alone).append(time.process_time() - t)
                if with_custom:
                    custom_hits += sum(1 for h in result.hits if h.code.startswith("Z"))
    n = len(cases)
    print(f"rules enabled: {enabled}; cases: {n}; reference data loaded in {load * 1000:.1f} ms")
    print(f"cases per second: {n / total:,.0f}")
    print(f"median per case: {statistics.median(times) * 1000:.3f} ms; p95 {sorted(times)[int(len(times) * .95)] * 1000:.3f} ms")
    print(f"baseline (no history): {n / baseline:,.0f} cases/s; with history ×{total / baseline:.2f} the time; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"CPU time of this process (what a busy machine does not inflate): catalogue {n / total_cpu:,.0f} cases/s")
    a, w = sum(alone), sum(whole)
    print(f"with {len(custom)} custom rules per case (CEL), case by case against the catalogue alone (CPU time): "
          f"catalogue {n / a:,.0f} cases/s, whole set {n / w:,.0f} cases/s (target ≥ 2,000); the whole set takes "
          f"×{w / a:.2f} the catalogue's time, the custom rules {(w - a) / n * 1e6:,.0f} µs per case "
          f"(median ×{statistics.median(whole) / statistics.median(alone):.2f}); custom hits {custom_hits}")
    print(f"lights: {lights} (cross-case rules fed with person and unit history; median-based rate "
          f"{1 / statistics.median(times):,.0f} cases/s)")


if __name__ == "__main__":
    main()
