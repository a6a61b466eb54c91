"""通报 (circulated notices): drafted from the period's data as shared/spec/regulations.md C.2 describes,
edited by the issuing department's supervisors, issued — then locked — and circulated to the units it names.

``compose(unit, from, to)`` computes the whole ``content`` from SQL aggregates over the unit's subtree,
deterministically: the same data gives the same content (everything is sorted; nothing depends on the
clock). Its sections:

* header — issuer, 文号, period, recipients;
* overall — per reporting node the cases due in the period, on time, late (逾期), 未报 and the timeliness
  rate; the share of cases without a red alarm; the same figures for the previous period of equal length
  (the previous calendar month/quarter/year when the period is one); units with zero late and zero wrong;
* late — the deadline rows due in the period that are 逾期 / 未报, and the repeat offenders (units in the
  previous issued notice's late list too);
* wrong — red alarms raised in the period (and findings recorded in it) grouped by the rule category.
  T01/T02 (初次/二次提交超期) are late reports, listed under ``late``, never here; alarms verified as
  correct (核实无误) are not errors;
* previous — the latest issued notice of the same department: each case it named, corrected or not;
* ranking — units with cases in the period, scored (the formula is in the content);
* requirements — the correction deadline and the units that must correct;
* texts — the editable intro, requirements and next steps.

``draft`` stores it (草稿) with its case list (NoticeCase); ``update_draft`` edits the texts; ``issue``
locks it (已印发), sends it to the inbox of the clerks of every unit named and of the issuing
department's supervisors, and e-mails copies after the commit. Each is one transaction; problems are
collected and raised together, in Chinese. A ``before_flush`` guard refuses any ORM change to an issued
notice or its case list, whatever the path.
"""
