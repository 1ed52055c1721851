"""Tags (GCS: labels) for every taggable resource the kit creates, and each cloud's rules for them.

The rules are pure functions that say what is wrong with a set of tags (or None), so a bad tag is
refused with the config key before any resource is registered, not by the cloud mid-deploy.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, Mapping, Optional, TypeVar, Union

# Added to every taggable resource so people can find what the kit made; a user's own value wins.
MANAGED_BY_KEY = "managed-by"
MANAGED_BY = {MANAGED_BY_KEY: "tavus-recording"}

Tags = Mapping[str, str]
# A tag's value: text, or (in a component) a Pulumi input that resolves to text.
Value = TypeVar("Value")


def with_default(tags: Optional[Mapping[str, Value]] = None) -> dict[str, Union[str, Value]]:
    """The tags a resource gets: `managed-by: tavus-recording` and the user's own."""
    return {**MANAGED_BY, **(tags or {})}


def _first_problem(
    tags: Tags, limit: int, what: str, tag_problem: Callable[[str, str], Optional[str]], added: tuple[str, ...] = ()
) -> Optional[str]:
    """The count check (with the labels the provider itself adds), then the first tag that breaks a rule."""
    count = len(tags) + len(set(added) - set(tags))
    if count > limit:
        also = "".join(f" and {label} (the provider adds it)" for label in added)
        return f"has {count} {what} with {MANAGED_BY_KEY}{also} included; at most {limit} are allowed"
    return next(filter(None, (tag_problem(key, value) for key, value in tags.items())), None)


def _length_problem(key: str, value: str, key_limit: int, value_limit: int) -> Optional[str]:
    if not 1 <= len(key) <= key_limit:
        return f"key {key!r} is {len(key)} characters long; expected 1-{key_limit}"
    if len(value) > value_limit:
        return f"the value of {key!r} is {len(value)} characters long; expected at most {value_limit}"
    return None


# IAM and S3 accept letters, digits and spaces in any script, and these.
_AWS_PUNCTUATION = frozenset("_.:/=+-@")


def _aws_text(text: str) -> bool:
    return all(unicodedata.category(c)[0] in "LNZ" or c in _AWS_PUNCTUATION for c in text)


def _aws_tag_problem(key: str, value: str) -> Optional[str]:
    problem = _length_problem(key, value, 128, 256)
    if problem:
        return problem
    if key.lower().startswith("aws:"):
        return f"key {key!r} starts with 'aws:', which AWS reserves"
    if not (_aws_text(key) and _aws_text(value)):
        return f"tag {key!r} has a character AWS refuses; expected letters, digits, spaces and _ . : / = + - @"
    return None


def aws_tags_problem(tags: Tags) -> Optional[str]:
    """What is wrong with `tags` on an S3 bucket or IAM role, or None."""
    return _first_problem(tags, 50, "tags", _aws_tag_problem)


def _gcp_letter(c: str) -> bool:
    # Google's classes: \p{Ll} (lowercase) and \p{Lo} (letters of scripts without case, e.g. CJK).
    return unicodedata.category(c) in ("Ll", "Lo")


def _gcp_text(text: str) -> bool:
    return all(_gcp_letter(c) or unicodedata.category(c)[0] == "N" or c in "_-" for c in text)


def _gcp_label_problem(key: str, value: str) -> Optional[str]:
    problem = _length_problem(key, value, 63, 63)
    if problem:
        return problem
    if not (_gcp_letter(key[0]) and _gcp_text(key)):
        return (
            f"label key {key!r} is not allowed; expected lowercase letters, digits, _ and -, "
            "starting with a lowercase letter"
        )
    if not _gcp_text(value):
        return f"the value of label {key!r} is not allowed; expected lowercase letters, digits, _ and -"
    return None


# pulumi-gcp (8 and later) adds this label to every resource, and Google counts it toward the 64.
PULUMI_GCP_LABEL = "goog-pulumi-provisioned"


def gcp_labels_problem(tags: Tags) -> Optional[str]:
    """What is wrong with `tags` as labels on a Cloud Storage bucket, or None."""
    return _first_problem(tags, 64, "labels", _gcp_label_problem, added=(PULUMI_GCP_LABEL,))


_AZURE_FORBIDDEN = frozenset("<>%&\\?/")


def _azure_tag_problem(key: str, value: str) -> Optional[str]:
    # A storage account allows 128-character names (other resources 512): the strictest applies.
    problem = _length_problem(key, value, 128, 256)
    if problem:
        return problem
    if set(key) & _AZURE_FORBIDDEN:
        return f"key {key!r} contains one of < > % & \\ ? /, which Azure refuses in tag names"
    return None


def azure_tags_problem(tags: Tags) -> Optional[str]:
    """What is wrong with `tags` on a resource group, storage account or managed identity, or None."""
    return _first_problem(tags, 50, "tags", _azure_tag_problem)


TAGS_PROBLEM: dict[str, Callable[[Tags], Optional[str]]] = {
    "s3": aws_tags_problem,
    "gcs": gcp_labels_problem,
    "azure_blob": azure_tags_problem,
}
