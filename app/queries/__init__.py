"""Case queries and statistics (条件查询, 明细查询, 统计).

One filter (``CaseFilter``) becomes one SELECT over the current case versions; every statistics
column is a named SQL condition (``app.queries.columns``). A table's cell counts the rows of that
SELECT meeting the column's condition, and the case list behind the cell is the same SELECT with
the same condition in its WHERE clause — so the number and the list agree by construction.
"""
