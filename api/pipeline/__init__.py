"""The request pipeline: what wraps every request before and after its view, in the worker.

The read cache and its WSGI edge (hits never reach Flask), rate limits and their shared
budget, `Idempotency-Key`, CORS, security headers, request ids, access logs and metrics.
"""
