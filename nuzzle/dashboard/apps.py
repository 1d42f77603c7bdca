from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "nuzzle.dashboard"
    label = "dashboard"
