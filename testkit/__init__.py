"""The test kit: what tests/, contracts/ and bench/ share to run Conduit for real.

Test settings and the CI rule (a missing service skips on a bare machine, fails under
CI=true), throwaway PostgreSQL databases, gunicorn and Celery workers started and stopped,
a private Redis, raw HTTP. It imports the app's packages, never tests/: bench/ and
contracts/ may use it without reaching into the test suite.
"""
