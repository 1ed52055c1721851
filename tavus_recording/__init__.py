"""The `tavus-recording` command: plan a stack offline, verify a deployed destination, start a new
stack, print the component package's schema.

The Pulumi library it serves is `components/`; this package reads, judges and reports, and nothing
in `components/` imports it. Every verb imports what it needs when it runs, so `--help` and
`--version` load no cloud SDK.
"""

# The distribution that installs this package (pyproject.toml's `name`).
DISTRIBUTION = "tavus-recording"


def installed_version() -> str:
    """pyproject.toml's version, as installed; "unknown" when run from a checkout that was never installed."""
    # Imported here: reading package metadata is for --version and the plugin, not every verb.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
