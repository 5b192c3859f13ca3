"""A Nextcloud-compatible local server for tests, `migrate sandbox` and benchmarks.

wsgidav is the WebDAV engine; this package adds what Nextcloud layers on top: file ids,
checksums, `X-OC-MTime`, chunked upload v2, filename rules, quotas, OCS users/groups/shares,
plus fault injection and request counting under `/_sandbox/`.
"""

from sandbox.nextcloud.server import NextcloudServer

__all__ = ["NextcloudServer"]
