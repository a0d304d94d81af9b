"""Fake airflow.providers.apache package."""
