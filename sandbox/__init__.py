"""Local stand-ins for the services Transhumance talks to.

They back the tests, `migrate sandbox` and `migrate demo`. Each listens on loopback only.
"""
