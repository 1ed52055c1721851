"""How long the kit keeps things, for every cloud."""

# Superseded versions (overwritten or deleted recordings) are kept this long by default.
DEFAULT_NONCURRENT_VERSION_DAYS = 30
# Incomplete multipart uploads cost storage until aborted; a week covers the longest call.
ABORT_MULTIPART_AFTER_DAYS = 7
# Azure soft delete: deleted blobs and containers stay recoverable this long.
SOFT_DELETE_DAYS = 7
