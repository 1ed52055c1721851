"""Independent reads issued together.

verify waits on the network, not the CPU: the reads of one dependency round (none needs another's
answer) go out at once on a few threads and come back in the order they were asked, so what is judged,
and the report's order, are exactly those of reading one after another. Every read given here must
return its answer or an "unread" value and never raise; one that does raises here, as it would have.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")

# Enough for one round of any cloud's reads (S3's bucket round is the widest, about a dozen), and under
# the connection pools' own limits (botocore and urllib3 keep 10 per host), so no request waits for a socket.
MAX_AT_ONCE = 10


def together(reads: Sequence[Callable[[], T]]) -> list[T]:
    """Each read's answer, in the order given; the reads run at the same time."""
    if len(reads) < 2:
        return [read() for read in reads]
    with ThreadPoolExecutor(max_workers=min(MAX_AT_ONCE, len(reads)), thread_name_prefix="verify-read") as pool:
        futures = [pool.submit(read) for read in reads]
        return [future.result() for future in futures]
