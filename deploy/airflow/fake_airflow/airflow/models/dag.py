"""Fake DAG: a context manager that collects the operators created inside it."""
import re

_CONTEXT = []
# Airflow's KEY_REGEX for dag and task ids.
_KEY = re.compile(r"^[\w.-]+$")


def current_dag():
    return _CONTEXT[-1] if _CONTEXT else None


class DAG:
    def __init__(self, dag_id, *, description=None, schedule=None, start_date=None, catchup=True,
                 max_active_runs=16, max_active_tasks=16, default_args=None, params=None, tags=None,
                 doc_md=None):
        if not _KEY.match(dag_id):
            raise ValueError(f"invalid dag_id {dag_id!r}: letters, digits, '_', '-', '.' only")
        self.dag_id = dag_id
        self.description = description
        self.schedule = schedule
        self.start_date = start_date
        self.catchup = catchup
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.default_args = dict(default_args or {})
        self.params = dict(params or {})
        self.tags = list(tags or [])
        self.doc_md = doc_md
        self.task_dict = {}

    def __enter__(self):
        _CONTEXT.append(self)
        return self

    def __exit__(self, *exc):
        _CONTEXT.pop()
        return False

    def add_task(self, task):
        if task.task_id in self.task_dict:
            raise ValueError(f"duplicate task_id {task.task_id!r} in DAG {self.dag_id!r}")
        self.task_dict[task.task_id] = task

    def topological_sort(self):
        """Tasks, upstream before downstream (ties in creation order); raises on a cycle, as Airflow's
        DagBag does when it loads a DAG."""
        done, order = set(), []
        pending = list(self.task_dict.values())
        while pending:
            ready = [t for t in pending if t.upstream_task_ids <= done]
            if not ready:
                raise ValueError(f"cycle in DAG {self.dag_id!r} among {sorted(t.task_id for t in pending)}")
            for t in ready:
                done.add(t.task_id)
                order.append(t)
            pending = [t for t in pending if t.task_id not in done]
        return order
