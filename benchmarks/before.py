"""The kit as it was before issue 20's speed work, for "before" figures measured in the same run as "after".

`before_tree()` unpacks that commit's files (git archive) into a temporary directory. Run from there
(cwd, or first on PYTHONPATH), Python imports that tree's `tavus_recording` and `components`, not the
installed (editable) ones: the editable finder comes after the path. In a copy with no git history the
tree is None and a benchmark prints its "after" figures alone.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

PROJECT_DIR = Path(__file__).resolve().parent.parent
# main before any of issue 20 (the tip of issue 19): before manageApis, the S3 lifecycle edge and the rest.
BEFORE_REV = "d2f8510"


@contextmanager
def before_tree(rev: str = BEFORE_REV) -> Iterator[Optional[Path]]:
    """A directory holding the project's files at `rev`, or None when git cannot give them."""
    with tempfile.TemporaryDirectory(prefix="tavus-before-") as scratch:
        archive = Path(scratch) / "before.tar"
        done = subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), rev], cwd=PROJECT_DIR,
                              capture_output=True, timeout=60)
        if done.returncode != 0:
            yield None
            return
        tree = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        yield tree
