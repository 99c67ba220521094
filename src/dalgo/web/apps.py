from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "dalgo.web"
    label = "web"
