"""Run the whole suite on SQLite, then on PostgreSQL where one is reachable.

PostgreSQL: $DATABASE_URL if it names one, else the local server at 127.0.0.1:5432 (database
`jishi_test`, created when missing). Extra arguments go to pytest.
"""
import os
import subprocess
import sys

import psycopg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/jishi_test"


def postgres_url():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = LOCAL_PG
    plain = url.replace("postgresql+psycopg://", "postgresql://", 1)
    dbname = plain.rsplit("/", 1)[1].split("?")[0]
    admin = plain.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{dbname}"')
        return plain
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        print(f"PostgreSQL 不可达（{exc.__class__.__name__}: {exc}），只在 SQLite 上运行测试")
        return None


def run(label, env_extra):
    env = {**os.environ, **env_extra}
    print(f"\n===== 测试：{label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *sys.argv[1:]], cwd=ROOT, env=env)


def main():
    failed = run("SQLite", {"JISHI_TEST_DATABASE_URL": ""})
    pg = postgres_url()
    if pg:
        failed = run("PostgreSQL", {"JISHI_TEST_DATABASE_URL": pg}) or failed
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
