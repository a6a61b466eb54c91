"""Statistics reports: per-unit figures computed in SQL, rolled up the unit tree, written as xlsx.

``statistics`` holds the selection statistics workbook that the scheduled monthly and quarterly
reports circulate (app/services/scheduled_reports.py) and that ``flask reports statistics``
writes for any period.
"""
