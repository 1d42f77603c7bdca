"""The prompts app in the Django admin: the curators' prompt bank (`bank`) and the
operators' read-only daily questions (`daily_questions`). Couple content never appears
here: answers and reactions are not registered at all.

The package is split by job: `statistics` (per-prompt usage, and `usage_register`, the
hook check-ins and love maps call from their admin modules), `forms` (the edit form),
`resources` (import and export) and the two ModelAdmins, registered on import.
"""

from prompts.admin import bank, daily_questions
from prompts.admin.statistics import usage_register

__all__ = ["bank", "daily_questions", "usage_register"]
