from django.apps import AppConfig


class CouplesConfig(AppConfig):
    name = "nuzzle.couples"
    label = "couples"
    verbose_name = "Accounts and couples"
