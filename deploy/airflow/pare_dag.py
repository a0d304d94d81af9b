"""Pare on Airflow: one `spark-submit` of `pare-cluster.jar` per stage (Airflow 2.4+, provider
apache-airflow-providers-apache-spark).

    calibrate ──────────────> prune ──┐
    score-data ──> select-data ───────┼──> distill ──> evaluate ──> report
         └────────────────────────────┘

Each task runs `dev.pare.jobs.cli.PareCli <stage> --config <config> --run-dir <run_base>/{{ ds }}`,
so every logical date gets its own run directory.

Idempotent reruns. A stage commits `<run-dir>/<stage>/` atomically with a `_SUCCESS` hash of the
config it reads and of its inputs. Rerunning a finished stage with the same config is a no-op
("already done ... skipped"), so clearing a task, or the whole DAG run, only redoes stages that did
not finish. A rerun with a changed config is refused (exit 2) unless `--force` is given; this DAG
never passes `--force`: to recompute, change the config and remove the stage folders (or use a new
run directory). A failed stage leaves nothing that looks finished, so Airflow's retries are safe;
`distill` is started with `--resume`, so a retry continues from its last epoch checkpoint (a first
attempt with `--resume` simply starts from scratch).

One command at a time. A run directory is locked (`<run-dir>/_LOCK`) while a command runs and a
second command on it is refused. Hence `max_active_tasks=1`: the graph records the real data
dependencies (a failed calibrate does not stop score-data and select-data), but stages run one
after the other. A lock left by a killed driver is taken over only on the same host (the retry of a
client-mode task on another worker is refused with the owner's name).

Settings: the Airflow Variable `pare_dag` (JSON, or the environment variable AIRFLOW_VAR_PARE_DAG)
overrides any key of DEFAULTS below; an unknown key is an error. It is read once when the file is
parsed. The config file is read by the driver, so with the default client deploy mode it is a path
on the Airflow worker; inputs and the run directory are Hadoop URIs (see conf/cluster.conf).
"""
from datetime import datetime, timedelta, timezone

from airflow import DAG
from airflow.models import Variable
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

DEFAULTS = {
    "jar": "/opt/pare/pare-cluster.jar",
    "config": "/opt/pare/conf/cluster.conf",
    "run_base": "hdfs:///pare/runs",
    "conn_id": "spark_default",
    # None: triggered by hand (or by an upstream DAG); e.g. "@daily" for a run directory per day.
    "schedule": None,
    # Task slots x OMP threads must not exceed an executor's cores (OMP_NUM_THREADS=1 below).
    "executor_cores": 4,
    "executor_memory": "8g",
    "num_executors": 4,
    # prune and distill run on the driver.
    "driver_memory": "8g",
    "retries": 2,
    "retry_delay_minutes": 5,
    # Extra --conf entries, added to (or replacing) SPARK_CONF.
    "spark_conf": {},
}

SPARK_CONF = {
    "spark.executorEnv.OMP_NUM_THREADS": "1",
    # DL4J's OpenMP threads otherwise spin-wait and waste most of the CPU (README, Performance).
    "spark.executorEnv.OMP_WAIT_POLICY": "PASSIVE",
}

# The driver JVM of a stage that does not train is short-lived: C2 after 10x the JIT's default thresholds, as
# deploy/pare gives those commands and Pare gives their executors (README, Performance settings; Pare's
# JitThresholds.FLAGS). distill trains and keeps the JVM's own. spark_conf may replace it.
JIT_DRIVER_CONF = {
    "spark.driver.extraJavaOptions": "-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
    " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000",
}
TRAINING_STAGES = {"distill"}

# The real data dependencies: each stage reads the finished folders of these (see the Stage classes).
STAGES = {
    "calibrate": [],
    "score-data": [],
    "select-data": ["score-data"],
    "prune": ["calibrate"],
    "distill": ["prune", "select-data", "score-data"],
    "evaluate": ["distill"],
    "report": ["evaluate"],
}
RESUMABLE = {"distill"}
# calibrate before score-data when both are ready: calibrate checks the training set in the pass that draws its
# sample (one read of the table for both), and score-data then takes the check's record in the run directory;
# the other way round, score-data reads the whole table once more to check it. With the default weight rule
# ("downstream") calibrate's total is 2 + 4 against score-data's 1 + 4.
PRIORITY = {"calibrate": 2}


def settings():
    """DEFAULTS overridden by the `pare_dag` Variable; unknown keys are refused."""
    given = Variable.get("pare_dag", default_var={}, deserialize_json=True)
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"Variable pare_dag: unknown key(s) {unknown}; valid keys: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **given}


def stage_args(stage, config, run_dir):
    """The `pare` arguments of one stage."""
    args = [stage, "--config", config, "--run-dir", run_dir]
    if stage in RESUMABLE:
        args.append("--resume")
    return args


S = settings()
RUN_DIR = S["run_base"].rstrip("/") + "/{{ ds }}"

with DAG(
    dag_id="pare",
    description="Prune a network and recover its accuracy by distillation (Pare, on Spark)",
    schedule=S["schedule"],
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    default_args={
        "retries": S["retries"],
        "retry_delay": timedelta(minutes=S["retry_delay_minutes"]),
    },
    tags=["pare", "spark"],
    doc_md=__doc__,
) as dag:
    tasks = {}
    for stage, upstream in STAGES.items():
        tasks[stage] = SparkSubmitOperator(
            task_id=stage,
            conn_id=S["conn_id"],
            application=S["jar"],
            java_class="dev.pare.jobs.cli.PareCli",
            application_args=stage_args(stage, S["config"], RUN_DIR),
            name=f"pare-{stage}-{{{{ ds }}}}",
            conf={**SPARK_CONF, **({} if stage in TRAINING_STAGES else JIT_DRIVER_CONF), **S["spark_conf"]},
            executor_cores=S["executor_cores"],
            executor_memory=S["executor_memory"],
            num_executors=S["num_executors"],
            driver_memory=S["driver_memory"],
            # The driver (spark-submit in client mode) runs prune and distill with DL4J as well.
            env_vars={"OMP_WAIT_POLICY": "PASSIVE"},
            priority_weight=PRIORITY.get(stage, 1),
        )
        for u in upstream:
            tasks[u] >> tasks[stage]
