"""Fake SparkSubmitOperator: stores the arguments of apache-airflow-providers-apache-spark's
operator (the subset Pare uses, same names and defaults) and runs nothing."""
from airflow.models.baseoperator import BaseOperator


class SparkSubmitOperator(BaseOperator):
    # As the provider's (4.x) template_fields, less those the fake does not take.
    template_fields = ("application", "conf", "files", "jars", "name", "application_args", "env_vars")

    def __init__(self, *, application="", conf=None, conn_id="spark_default", files=None, jars=None,
                 java_class=None, executor_cores=None, executor_memory=None, driver_memory=None,
                 num_executors=None, name="arrow-spark", application_args=None, env_vars=None,
                 verbose=False, **kwargs):
        super().__init__(**kwargs)
        self.application = application
        self.conf = conf
        self.conn_id = conn_id
        self.files = files
        self.jars = jars
        self.java_class = java_class
        self.executor_cores = executor_cores
        self.executor_memory = executor_memory
        self.driver_memory = driver_memory
        self.num_executors = num_executors
        self.name = name
        self.application_args = application_args
        self.env_vars = env_vars
        self.verbose = verbose

    def execute(self, context):
        raise NotImplementedError("the fake airflow package only describes DAGs")
