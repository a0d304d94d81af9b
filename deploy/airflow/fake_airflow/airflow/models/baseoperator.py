"""Fake BaseOperator: task id, retries, default_args, dependencies and template rendering."""
import datetime
import functools
import inspect
import re

from airflow.models.dag import _KEY, current_dag

# Only these expressions are understood; anything else in {{ }} or {% %} is an error rather than
# being passed through unrendered.
_EXPR = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_SUPPORTED = re.compile(r"^(ds|ds_nodash|params\.\w+)$")


def _accepted(cls):
    names = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            init = inspect.unwrap(vars(klass)["__init__"])
            names.update(p.name for p in inspect.signature(init).parameters.values()
                         if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD)
    names.discard("self")
    return names


def _apply_defaults(init):
    """As Airflow's BaseOperatorMeta: a DAG's default_args fill the parameters the operator
    accepts and the caller did not pass."""
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if not getattr(self, "_defaults_applied", False):
            self._defaults_applied = True
            dag = kwargs.get("dag") or current_dag()
            if dag is not None:
                accepted = _accepted(type(self))
                for key, value in dag.default_args.items():
                    if key in accepted:
                        kwargs.setdefault(key, value)
        init(self, *args, **kwargs)
    return wrapper


class BaseOperator:
    template_fields = ()

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "__init__" in vars(cls):
            cls.__init__ = _apply_defaults(cls.__init__)

    def __init__(self, *, task_id, retries=0, retry_delay=datetime.timedelta(seconds=300),
                 execution_timeout=None, doc_md=None, priority_weight=1, weight_rule="downstream", dag=None):
        if not _KEY.match(task_id):
            raise ValueError(f"invalid task_id {task_id!r}: letters, digits, '_', '-', '.' only")
        if weight_rule not in ("downstream", "upstream", "absolute"):
            raise ValueError(f"invalid weight_rule {weight_rule!r}: downstream, upstream or absolute")
        self.task_id = task_id
        self.priority_weight = priority_weight
        self.weight_rule = weight_rule
        self.retries = retries
        self.retry_delay = retry_delay
        self.execution_timeout = execution_timeout
        self.doc_md = doc_md
        self.upstream_task_ids = set()
        self.downstream_task_ids = set()
        self.dag = dag or current_dag()
        if self.dag is None:
            raise ValueError(f"task {task_id!r} is not in a DAG (use `with DAG(...):` or dag=)")
        self.dag.add_task(self)

    @property
    def priority_weight_total(self):
        """As Airflow: the task's own weight, plus those of every task downstream (weight_rule
        "downstream", the default) or upstream ("upstream") of it, transitively; "absolute": its own."""
        if self.weight_rule == "absolute":
            return self.priority_weight
        step = (lambda t: t.downstream_task_ids) if self.weight_rule == "downstream" else (lambda t: t.upstream_task_ids)
        seen, todo = set(), list(step(self))
        while todo:
            tid = todo.pop()
            if tid not in seen:
                seen.add(tid)
                todo.extend(step(self.dag.task_dict[tid]))
        return self.priority_weight + sum(self.dag.task_dict[t].priority_weight for t in seen)

    # Dependencies ---------------------------------------------------------------------------
    def set_upstream(self, other):
        for t in other if isinstance(other, (list, tuple, set)) else [other]:
            if t.dag is not self.dag:
                raise ValueError(f"{t.task_id!r} and {self.task_id!r} are in different DAGs")
            self.upstream_task_ids.add(t.task_id)
            t.downstream_task_ids.add(self.task_id)

    def set_downstream(self, other):
        for t in other if isinstance(other, (list, tuple, set)) else [other]:
            t.set_upstream(self)

    def __rshift__(self, other):  # self >> other
        self.set_downstream(other)
        return other

    def __lshift__(self, other):  # self << other
        self.set_upstream(other)
        return other

    def __rrshift__(self, other):  # [a, b] >> self
        self.set_upstream(other)
        return self

    def __rlshift__(self, other):  # [a, b] << self
        self.set_downstream(other)
        return self

    # Templates ------------------------------------------------------------------------------
    def render_template_fields(self, context):
        """The template_fields with {{ ds }}, {{ ds_nodash }} and {{ params.NAME }} replaced."""
        return {name: _render(getattr(self, name), context, f"{self.task_id}.{name}")
                for name in self.template_fields}


def _render(value, context, where):
    if isinstance(value, str):
        if "{%" in value or "{#" in value:
            raise ValueError(f"{where}: the fake renders only {{{{ expr }}}}, got {value!r}")

        def one(m):
            expr = m.group(1)
            if not _SUPPORTED.match(expr):
                raise ValueError(f"{where}: the fake cannot render {{{{ {expr} }}}}"
                                 " (only ds, ds_nodash, params.NAME)")
            if expr.startswith("params."):
                return str(context["params"][expr[len("params."):]])
            return str(context[expr])
        return _EXPR.sub(one, value)
    if isinstance(value, (list, tuple)):
        return type(value)(_render(v, context, where) for v in value)
    if isinstance(value, dict):
        return {k: _render(v, context, where) for k, v in value.items()}
    return value
