from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "checkins"

    def ready(self) -> None:
        # Nudges never import feature apps: check-ins say who needs a reminder.
        from checkins.selectors import nudge_checkin_reminder
        from nuzzle.nudges.kinds import Kind, register

        register(Kind.CHECKIN_REMINDER, nudge_checkin_reminder)
