"""Hard-bar rules (硬杠): one small pure function per catalogued rule.

``registry`` holds the rules with their catalogue metadata (app/spec/rules.json, a copy of
shared/spec/rules.json); ``context`` is what a rule reads; ``calendar`` counts working days.
Rules live one module per category (q.py, c.py, p.py, d.py, t.py, x.py); importing
``app.rules.catalog`` registers them all.
"""
