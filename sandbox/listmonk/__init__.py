"""Emulator of listmonk's REST API (lists, subscribers, subscriptions, CSV import)."""

from sandbox.listmonk.server import ListmonkServer

__all__ = ["ListmonkServer"]
