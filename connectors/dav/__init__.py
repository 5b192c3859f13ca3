"""WebDAV targets: `nextcloud` (connectors/nextcloud.py) and `webdav` (connectors/webdav.py)
share this package: HTTP session and errors, bulk listing, names, uploads, sharing."""
