"""Connectors: one module (or small package) per service, registered by name (entry points)."""
