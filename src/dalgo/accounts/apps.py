from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dalgo.accounts"
    label = "accounts"
    verbose_name = "Accounts"
