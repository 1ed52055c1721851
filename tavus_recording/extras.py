"""Which pip extra (`pip install -e '.[aws]'`, `make ... CLOUDS=aws`) brings each provider's SDK and
its `verify` client: an install for one cloud never pulls another's."""

from typing import Literal

# The providers, as `init --provider` offers them: components.tavus.Provider's values, written here so that
# the command's --help and --version import neither pydantic nor the settings models (a test holds the two equal).
Provider = Literal["s3", "gcs", "azure_blob"]

EXTRAS = {"s3": "aws", "gcs": "gcp", "azure_blob": "azure"}


def make_plan(stack: str, provider: str) -> str:
    """The command that sets up the right SDK and plans `stack` offline."""
    return f"make plan STACK={stack} CLOUDS={EXTRAS[provider]}"
