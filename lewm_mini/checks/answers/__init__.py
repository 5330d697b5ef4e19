"""Reference answers the checkers in ``lewm_mini.checks`` compare a learner's code against.

Kept apart from the modules an exercise imports from (``lewm_mini.checks.chNN``), so that reading a checker or
a helper it provides never shows an answer. Reading these files before trying spoils the exercises.
"""
