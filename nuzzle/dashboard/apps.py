from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "nuzzle.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        # The recap reads every feature app, so the dashboard (the top layer) owns it.
        from nuzzle.dashboard.selectors import nudge_weekly_recap
        from nuzzle.nudges.kinds import Kind, register

        register(Kind.WEEKLY_RECAP, nudge_weekly_recap)
