"""Fake airflow.providers.apache.spark package."""
