"""Marshmallow schemas: the single source of validation, serialization and the spec."""
