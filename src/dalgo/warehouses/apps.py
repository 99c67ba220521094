from django.apps import AppConfig


class WarehousesConfig(AppConfig):
    name = "dalgo.warehouses"
    label = "warehouses"
    verbose_name = "Warehouses"
