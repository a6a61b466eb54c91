"""Demo data: a realistic municipality (江城市, fictional).

The tree is the supervision tree: the municipal organization department at the root supervises
the municipal bureaus (处级任免权) and the 16 district party committees; each district's
organization department supervises its district departments (处级任免权) and its townships,
streets and sub-units (科级任免权). 99 municipal bureaus + 16 × (区委, 区委组织部, 2 departments)
= 163 units with 处级 authority; 16 × 18 township/street/sub-units + 40 bureau sub-units = 328
with 科级 authority.
"""
from __future__ import annotations

import secrets
import string

from sqlalchemy import func, select

from app.demo.cases import seed_demo_cases
from app.extensions import db
from app.models import AppUser, Unit, UnitQuota
from app.rule_settings import seed_calendar
from app.tasks.deadlines import run_scan

DEMO_EMAIL_DOMAIN = "@demo.jishi.invalid"  # marks the accounts seed-demo created
CITY_REGION = "420100"  # used only as a plausible GB/T 2260 prefix for the fictional city

DISTRICTS = [
    "江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区",
    "汉南区", "蔡甸区", "江夏区", "黄陂区", "新洲区", "东湖新区", "经开区", "临空港区",
]

BUREAUS = [
    ("市纪委监委", "纪委监委"), ("市委办公厅", "党委"), ("市委宣传部", "党委"), ("市委统战部", "党委"),
    ("市委政法委", "党委"), ("市中级人民法院", "法院"), ("市人民检察院", "检察院"), ("市公安局", "公安"),
    ("市政府办公厅", "政府"), ("市发展和改革委员会", "政府"), ("市教育局", "政府"), ("市科学技术局", "政府"),
    ("市经济和信息化局", "政府"), ("市民族宗教事务委员会", "政府"), ("市民政局", "政府"), ("市司法局", "政府"),
    ("市财政局", "政府"), ("市人力资源和社会保障局", "政府"), ("市自然资源和规划局", "政府"),
    ("市生态环境局", "政府"), ("市住房和城乡建设局", "政府"), ("市交通运输局", "政府"), ("市水务局", "政府"),
    ("市农业农村局", "政府"), ("市商务局", "政府"), ("市文化和旅游局", "政府"), ("市卫生健康委员会", "政府"),
    ("市退役军人事务局", "政府"), ("市应急管理局", "政府"), ("市审计局", "政府"), ("市国有资产监督管理委员会", "政府"),
    ("市市场监督管理局", "政府"), ("市体育局", "政府"), ("市统计局", "政府"), ("市医疗保障局", "政府"),
    ("市城市管理执法委员会", "政府"), ("市园林和林业局", "政府"), ("市地方金融工作局", "政府"),
    ("市政务服务和大数据管理局", "政府"), ("市信访局", "政府"),
]


def _bureau_names() -> list[tuple[str, str, str]]:
    """99 municipal units with 处级 authority: organs, bureaus, institutions and SOEs."""
    units = [(name, "委办局", kind) for name, kind in BUREAUS]
    for i in range(1, 31):
        units.append((f"市属事业单位第{i}中心", "事业单位", "其他"))
    for i in range(1, 30):
        units.append((f"市属国有企业第{i}集团", "国有企业", "其他"))
    return units


def _password(length: int = 14) -> str:
    """A random password that meets the password policy."""
    alphabet = string.ascii_letters + string.digits
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length - 2)) + "#" + secrets.choice(string.digits)
        if any(c.isupper() for c in pw) and any(c.islower() for c in pw):
            return pw


def _unit(code, name, parent, level, unit_type, max_grade, authority, region=None, dual=False):
    return Unit(code=code, name=name, parent=parent, level=level, unit_type=unit_type,
                region_code=region, max_grade=max_grade, authority=authority, dual_managed=dual)


def build_units() -> Unit:
    """The whole tree, in memory (the caller adds the root and commits)."""
    root = _unit("SZZB", "中共江城市委组织部", None, "市", "组织部", "厅局级正职", "处级任免权", CITY_REGION)
    for i, (name, level, kind) in enumerate(_bureau_names(), start=1):
        grade = "县处级正职" if level != "委办局" else "厅局级副职"
        bureau = _unit(f"SJ{i:03d}", name, root, level, kind, grade, "处级任免权", CITY_REGION,
                       dual=kind in ("法院", "检察院", "公安"))
        bureau.quotas = [UnitQuota(grade="县处级正职", approved=1), UnitQuota(grade="县处级副职", approved=3),
                         UnitQuota(grade="乡科级正职", approved=8), UnitQuota(grade="乡科级副职", approved=10)]
        if i <= 40:
            _unit(f"SJ{i:03d}-01", f"{name}直属事业单位", bureau, "事业单位", "其他", "乡科级正职",
                  "科级任免权", CITY_REGION)
    for d, dname in enumerate(DISTRICTS, start=1):
        region = f"4201{d:02d}"
        committee = _unit(f"Q{d:02d}", f"中共{dname}委员会", root, "区县", "党委", "县处级正职", "处级任免权", region)
        committee.quotas = [UnitQuota(grade="县处级正职", approved=2), UnitQuota(grade="县处级副职", approved=9)]
        zzb = _unit(f"Q{d:02d}-ZZB", f"中共{dname}委组织部", committee, "区县", "组织部", "县处级正职",
                    "处级任免权", region)
        for k, (dept, kind) in enumerate([("人民政府办公室", "政府"), ("公安分局", "公安")], start=1):
            unit = _unit(f"Q{d:02d}-B{k:02d}", f"{dname}{dept}", zzb, "委办局", kind, "县处级正职",
                         "处级任免权", region, dual=kind == "公安")
            unit.quotas = [UnitQuota(grade="乡科级正职", approved=6), UnitQuota(grade="乡科级副职", approved=8)]
        for t in range(1, 13):
            kind_name = "街道办事处" if t <= 6 else "镇人民政府"
            unit = _unit(f"Q{d:02d}-T{t:02d}", f"{dname}第{t}{kind_name}", zzb, "乡镇街道", "政府",
                         "乡科级正职", "科级任免权", region)
            unit.quotas = [UnitQuota(grade="乡科级正职", approved=2), UnitQuota(grade="乡科级副职", approved=5)]
        for s in range(1, 7):
            _unit(f"Q{d:02d}-S{s:02d}", f"{dname}属事业单位{s}", zzb, "事业单位", "其他", "乡科级正职",
                  "科级任免权", region)
    return root


# (username, display name, unit code, role)
DEMO_USERS = [
    ("admin", "系统管理员", None, "系统管理员"),
    ("admin2", "第二系统管理员", None, "系统管理员"),  # approves what admin writes (四眼原则: custom rules)
    ("szzb_jdy", "市委组织部监督员", "SZZB", "监督员"),
    ("szzb_cxy", "市委组织部查询员", "SZZB", "查询员"),
    ("q01zzb_jdy", "江岸区委组织部监督员", "Q01-ZZB", "监督员"),
]
for _code, _short in (("SJ011", "jyj"), ("SJ017", "czj")):  # 市教育局, 市财政局: two siblings
    DEMO_USERS += [
        (f"{_short}_tby", f"{_short}填报员", _code, "填报员"),
        (f"{_short}_qz1", f"{_short}分管负责人", _code, "签字领导"),
        (f"{_short}_qz2", f"{_short}主要领导", _code, "签字领导"),
        (f"{_short}_qz3", f"{_short}单位领导", _code, "签字领导"),
        (f"{_short}_cxy", f"{_short}查询员", _code, "查询员"),
    ]


def seed_demo(sm, reset_passwords: bool = False) -> dict:
    """Create the tree and demo users when missing. Returns new credentials (shown once)."""
    created_units = 0
    if db.session.execute(select(Unit.id).where(Unit.code == "SZZB")).first() is None:
        root = build_units()
        db.session.add(root)
        db.session.flush()
        # The demo tree only: other units may already exist in the database.
        created_units = db.session.scalar(
            select(func.count()).select_from(Unit).where(Unit.path.startswith(root.path, autoescape=True))
        )
    codes = dict(db.session.execute(select(Unit.code, Unit.id)).all())
    credentials = {}
    for username, name, code, role_name in DEMO_USERS:
        role = sm.find_role(role_name)
        if role is None:
            raise RuntimeError(f"角色“{role_name}”不存在，请先运行 flask db upgrade 并启动一次应用以同步权限")
        user = sm.find_user(username=username)
        if user is None:
            password = _password()
            user = AppUser(username=username, first_name=name, last_name="", email=f"{username}{DEMO_EMAIL_DOMAIN}",
                           active=True, roles=[role], unit_id=codes.get(code) if code else None)
            user.password = _hash(password)
            db.session.add(user)
            credentials[username] = (password, role_name, code)
        elif reset_passwords and (user.email or "").endswith(DEMO_EMAIL_DOMAIN):
            # Only accounts this command created: never a real administrator named "admin".
            password = _password()
            user.password = _hash(password)
            user.locked_until = None
            user.fail_login_count = 0
            credentials[username] = (password, role_name, code)
    db.session.commit()
    seed_calendar()

    cases_created = seed_demo_cases(sm)
    # The first deadline scan, so the demo opens with its late report flagged and notified (the
    # worker's beat repeats it; the unique keys keep it from notifying twice).

    scan = run_scan(triggered_by="演示数据")
    return {"units_created": created_units, "credentials": credentials, "cases_created": cases_created,
            "scan": scan}


def _hash(password: str) -> str:
    from flask import current_app
    from werkzeug.security import generate_password_hash

    return generate_password_hash(
        password, method=current_app.config.get("FAB_PASSWORD_HASH_METHOD", "scrypt"),
        salt_length=current_app.config.get("FAB_PASSWORD_HASH_SALT_LENGTH", 16),
    )
