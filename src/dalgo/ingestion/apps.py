from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "dalgo.ingestion"
    label = "ingestion"
    verbose_name = "Ingestion"
