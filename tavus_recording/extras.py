"""Which pip extra (`pip install -e '.[aws]'`, `make ... CLOUDS=aws`) brings each provider's SDK and
its `verify` client: an install for one cloud never pulls another's."""

EXTRAS = {"s3": "aws", "gcs": "gcp", "azure_blob": "azure"}


def make_plan(stack: str, provider: str) -> str:
    """The command that sets up the right SDK and plans `stack` offline."""
    return f"make plan STACK={stack} CLOUDS={EXTRAS[provider]}"
