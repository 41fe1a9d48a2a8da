"""What only the test suite uses (the shared kit is testkit/): the tests' app builder, the
ops suite's server defaults, a Celery worker app with a task that kills its process."""
