"""What tests, contracts and benchmarks share (conftest files hold only fixtures built on it).

- `settings`: the test settings, where the test PostgreSQL server is, and `unavailable`
  (a skip on a bare machine, a failure under CI=true).
- `database`: throwaway PostgreSQL databases, a private cluster a test may stop, a counter
  of the statements an engine runs.
- `servers`: werkzeug in a thread, and `make serve`'s gunicorn on a free port.
- `http`: raw requests on a connection of their own, and their replies.
- `ops`: the defaults of the ops suite's servers (secret, Redis database, quiet logs).
"""
