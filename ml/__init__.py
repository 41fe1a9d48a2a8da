"""Conduit's sentence-embedding model, the vector index and their offline evaluation.

Importing the package imports nothing heavy, so `ml.threads.pin()` can run before numpy.
"""
