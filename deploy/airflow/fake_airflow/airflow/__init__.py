"""A minimal, test-only stand-in for Apache Airflow: just what deploy/airflow/pare_dag.py imports.

It records a DAG (tasks, dependencies, arguments) so that dag_check.py can describe it without an
Airflow installation. It schedules and runs nothing. Where it mirrors Airflow behaviour (default_args,
>> and <<, AIRFLOW_VAR_* variables, template_fields), it follows Airflow 2.x.
"""
from airflow.models.dag import DAG

__all__ = ["DAG"]
