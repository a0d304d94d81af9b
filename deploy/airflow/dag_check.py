"""Loads pare_dag.py against the fake `airflow` package in fake_airflow/ and prints one JSON document
describing the DAG, with the templates rendered for a logical date:

    python3 deploy/airflow/dag_check.py 2026-11-25

Standard library only; no Airflow needed. AirflowDagTest runs it and feeds every task's
application_args to the real `pare` command line. Exit 1 with a message on stderr when the DAG file
does not load (an unknown key in AIRFLOW_VAR_PARE_DAG, a cycle, a template the fake cannot render).
"""
import datetime
import importlib.util
import json
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in the checkout

HERE = Path(__file__).resolve().parent


def load_dag(path):
    sys.path.insert(0, str(HERE / "fake_airflow"))
    from airflow import DAG  # the fake, first on sys.path

    spec = importlib.util.spec_from_file_location("pare_dag", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # As Airflow's DagBag: every module-level DAG object.
    dags = [v for v in vars(module).values() if isinstance(v, DAG)]
    if len(dags) != 1:
        raise ValueError(f"{path}: expected one DAG, found {len(dags)}")
    return dags[0]


def describe(dag, ds):
    context = {"ds": ds.isoformat(), "ds_nodash": ds.strftime("%Y%m%d"), "params": dag.params}
    tasks = []
    for t in dag.topological_sort():
        rendered = t.render_template_fields(context)
        tasks.append({
            "task_id": t.task_id,
            "upstream": sorted(t.upstream_task_ids),
            "retries": t.retries,
            "priority_weight_total": t.priority_weight_total,
            "retry_delay_seconds": t.retry_delay.total_seconds(),
            "operator": type(t).__name__,
            "conn_id": t.conn_id,
            "application": rendered["application"],
            "java_class": t.java_class,
            "application_args": rendered["application_args"],
            "name": rendered["name"],
            "conf": rendered["conf"],
            "env_vars": rendered["env_vars"],
            "executor_cores": t.executor_cores,
            "executor_memory": t.executor_memory,
            "num_executors": t.num_executors,
            "driver_memory": t.driver_memory,
        })
    return {
        "dag_id": dag.dag_id,
        "schedule": dag.schedule,
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "tasks": tasks,
    }


def main(argv):
    if len(argv) != 2:
        print("usage: dag_check.py YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        ds = datetime.date.fromisoformat(argv[1])
    except ValueError:
        print(f"dag_check.py: not a date (YYYY-MM-DD): {argv[1]!r}", file=sys.stderr)
        return 2
    try:
        dag = load_dag(HERE / "pare_dag.py")
        doc = describe(dag, ds)
    except (ValueError, KeyError, TypeError) as e:
        print(f"dag_check.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(doc, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
