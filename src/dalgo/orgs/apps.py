from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "dalgo.orgs"
    label = "orgs"
    verbose_name = "Organisations"

    def ready(self) -> None:
        from dalgo.core.api import register_access_resolver
        from dalgo.orgs.selectors import OrgsAccessResolver

        register_access_resolver(OrgsAccessResolver())
