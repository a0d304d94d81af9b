"""Fake airflow.providers package."""
