"""Fake airflow.providers.apache.spark.operators package."""
