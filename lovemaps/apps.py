from django.apps import AppConfig


class LovemapsConfig(AppConfig):
    name = "lovemaps"
