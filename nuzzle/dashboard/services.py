"""The one write the dashboard may cause: assigning today's question on the first view of
a couple day the sweep has not reached yet."""

from __future__ import annotations

from dataclasses import replace

from nuzzle.couples.models import User
from nuzzle.dashboard import statements
from nuzzle.dashboard.selectors import Dashboard, dashboard_get
from prompts import selectors as questions
from prompts import services as question_services


def dashboard_for_today(*, user: User, rendered: bool = False) -> Dashboard:
    """ "Us today" for the page and the API alike. Read first; only when the couple's
    question for today is missing is it assigned (a write, never in the selector) and
    read again, so a dashboard whose question is there costs no query more.

    On PostgreSQL one prepared statement reads it all (`statements.dashboard_read`):
    its check-ins come rendered as the API shows them, and for the page (not
    `rendered`) become its cards (`checkins.cards`)."""
    if statements.DASHBOARD.available():
        dashboard = statements.dashboard_read(user=user, page=not rendered)
    else:
        dashboard = dashboard_get(user=user)
    if dashboard.couple is not None and dashboard.question is None:
        question_services.daily_question_ensure(user=user)
        dashboard = replace(dashboard, question=questions.question_view_today(user=user))
    return dashboard
