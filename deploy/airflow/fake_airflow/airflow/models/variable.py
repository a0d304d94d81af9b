"""Fake Variable: Airflow looks a variable up in AIRFLOW_VAR_<KEY> first, then in its metastore.

This fake has no metastore, so only the environment and default_var are consulted.
"""
import json
import os

_NOTSET = object()


class Variable:
    @classmethod
    def get(cls, key, default_var=_NOTSET, deserialize_json=False):
        raw = os.environ.get("AIRFLOW_VAR_" + key.upper())
        if raw is None:
            if default_var is _NOTSET:
                raise KeyError(f"Variable {key} does not exist")
            return default_var
        return json.loads(raw) if deserialize_json else raw
