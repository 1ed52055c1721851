"""What every cloud's settings share: the model's base, the keys all providers take, and the small
validators the per-cloud modules build on.

Pulumi hands a program every declared key, defaults included, so an optional key's "absent" is its
Pulumi.yaml default: "" for text, 0 for a number of days and {} for `tags`. The kit's own defaults
(30 days, `US`, `recordings`, ...) are applied by the components, so a key the user did not set is
never mistaken for one they did.

Every text value is plain (no control, format or line-separator character) and at most MAX_TEXT_LENGTH
long before its key's own rules read it; day counts stop at what every cloud takes and the kit's cap.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Annotated, Any, Callable, ClassVar, Literal, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.compliance import DEFAULT_WORM_MODE, MAX_WORM_DAYS, WORM_MODES
from components.lifecycle import COLD_AFTER_MIN_DAYS, COLD_CLASS_NAME
from components.naming import control_character_problem
from components.tags import TAGS_PROBLEM, with_default
from components.tavus import TAVUS_ACCESS, TAVUS_ACCESS_GRANTED, Provider

NAMESPACE = "tavus-recording"


class SettingsBase(BaseModel):
    """Config keys by their names in the stack file (camelCase aliases); nothing unknown, nothing changed."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=False)

    # The providers a cloud module's keys apply to (the common keys apply to all).
    PROVIDERS: ClassVar[tuple[str, ...]] = ()
    # Where the storage lives, in this cloud's own key (named when `location` is misplaced).
    REGION_KEY: ClassVar[str] = ""
    # Keys that shape storage the kit creates, by the key naming existing storage that would ignore them.
    IGNORED_BESIDE: ClassVar[dict[str, tuple[str, ...]]] = {}

    def key_problems(self) -> list[tuple[str, str]]:
        """Problems between this cloud's keys, as (config key, what is wrong); checked for its providers only."""
        return []


def qualified(alias: str) -> str:
    """A config key with its namespace: bare keys are the kit's own."""
    return alias if ":" in alias else f"{NAMESPACE}:{alias}"


def bare(key: str) -> str:
    return key.removeprefix(f"{NAMESPACE}:")


def required_for(value: Optional[str], info: ValidationInfo, providers: tuple[str, ...], what: str) -> Optional[str]:
    """A provider-specific key's value to check (it applies here and is set), or None where it does not
    apply; unset where it applies is an error."""
    provider = info.data.get("provider")
    if provider not in providers:
        return None
    if value is None:
        raise ValueError(f"is required for provider {provider}: {what}")
    return value


def checked(value: str, problem_of: Callable[[str], Optional[str]], expected: str) -> str:
    """`value`, or a ValueError with what is wrong with it and what is expected."""
    problem = problem_of(value)
    if problem:
        raise ValueError(f"{problem}; {expected}")
    return value


# Names by settings field: what is wrong with one, and the rules to quote.
NameRules = dict[str, tuple[Callable[[str], Optional[str]], str]]


def checked_name(rules: NameRules, value: Optional[str], info: ValidationInfo) -> Optional[str]:
    """A name field's value, judged by its entry in `rules` (pydantic always names the field it validates)."""
    problem_of, expected = rules[str(info.field_name)]
    return value if value is None else checked(value, problem_of, f"expected {expected}")


def closest(word: str, candidates: Any) -> Optional[str]:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Any) -> str:
    close = closest(word, candidates)
    return f" (did you mean '{close}'?)" if close else ""


# The longest value any text key takes: a KMS key ARN, which KMS takes as a KeyId of up to 2048 characters
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_DescribeKey.html, KeyId). Keys whose cloud
# takes less are held to that by their own rules; this stops a megabyte value before any rule reads it.
MAX_TEXT_LENGTH = 2048
_SHOWN_LENGTH = 100


def shown(value: Any) -> str:
    """A value as a problem line quotes it: escaped (repr), and cut short when long."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**_SHOWN_LENGTH:
        # str() of a number this long may exceed Python's digit limit; its size is what matters here.
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, str) and len(value) > _SHOWN_LENGTH:
        return f"{value[:_SHOWN_LENGTH]!r}... ({len(value)} characters)"
    return repr(value)


def text_problem(text: str, limit: int = MAX_TEXT_LENGTH) -> Optional[str]:
    """What is wrong with `text` as any setting's value (a control character, or more than `limit`
    characters), with what is expected; or None."""
    problem = control_character_problem(text)
    if problem:
        return f"{problem}; expected plain text (no control, format or line-separator characters)"
    if len(text) > limit:
        return f"is longer than any setting takes; expected at most {limit} characters"
    return None


def _plain_text(value: Any) -> Any:
    """Every text key's first check, before its own rules read it."""
    problem = text_problem(value) if isinstance(value, str) else None
    if problem:
        raise ValueError(problem)
    return value


def _blank_is_absent(value: Any) -> Any:
    return None if value == "" else _plain_text(value)


def _zero_is_absent(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, str) and not re.fullmatch(r"([0-9]+(\.0+)?)?", value):
        # Digits only: int() would also take " 30", "3_0" or "30" with a no-break space, and pydantic `true` as 1 day,
        # which no one means to write (and Pulumi's own CLI, which passes text, would refuse the last).
        raise PydanticCustomError("int_parsing", "not a whole number")
    return None if value in (0, "0", "") else value


OptionalText = Annotated[Optional[str], BeforeValidator(_blank_is_absent)]
PlainText = Annotated[str, BeforeValidator(_plain_text)]
DayCount = Annotated[Optional[Annotated[int, Field(ge=1)]], BeforeValidator(_zero_is_absent)]

# The most days each cloud's lifecycle rule takes for the day-count keys, where it documents any:
# - S3 Expiration.Days and NoncurrentVersionExpiration.NoncurrentDays: an Integer (int32), "a non-zero positive
#   integer", no maximum (https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleExpiration.html;
#   terraform-provider-aws internal/service/s3/bucket_lifecycle_configuration.go: Int32Attribute, AtLeast(1) only).
# - Cloud Storage lifecycle condition age and daysSinceNoncurrentTime: an integer (int32), "a nonnegative integer",
#   no maximum (https://cloud.google.com/storage/docs/json_api/v1/buckets, lifecycle.rule[].condition).
# - Azure management policy daysAfterModificationGreaterThan and, for versions, daysAfterCreationGreaterThan: a
#   number, multipleOf 1, minimum 0, no maximum (azure-rest-api-specs specification/storage/resource-manager/
#   Microsoft.Storage/stable/2025-01-01/storage.json, DateAfterModification, DateAfterCreation); the azurerm
#   provider caps them at 99999 (terraform-provider-azurerm internal/services/storage/
#   storage_management_policy_resource.go, IntBetween(0, 99999)).
PROVIDER_MAX_DAYS: dict[str, int] = {"s3": 2**31 - 1, "gcs": 2**31 - 1, "azure_blob": 99999}
# None of them caps low enough to catch a typo, so the kit does: 100 years. No recording is meant to be
# kept longer and then deleted; a larger number is a slip of the keyboard (or 0, keep them, was meant).
MAX_DAYS = 36500


def max_days(provider: Any) -> int:
    """The most days a day-count key takes on `provider`: the kit's cap, or the cloud's if lower."""
    return min(MAX_DAYS, PROVIDER_MAX_DAYS.get(provider, MAX_DAYS))


def days_expected(provider: Any, field: str = "") -> str:
    """The range a day-count key takes, as a refusal quotes it (`coldAfterDays` starts at the kit's floor)."""
    least = COLD_AFTER_MIN_DAYS if field in ("cold_after_days", "coldAfterDays") else 1
    return f"expected a whole number of days from {least} to {max_days(provider)}"


class ProviderSettings(SettingsBase):
    """`provider`, first: every other key is judged by it."""

    provider: Annotated[Provider, BeforeValidator(_plain_text)]


class RetentionSettings(SettingsBase):
    """How long recordings and their superseded versions are kept, on every cloud."""

    retention_days: DayCount = None
    noncurrent_version_days: DayCount = None
    # After retention_days, so its validator sees it.
    cold_after_days: DayCount = None

    @field_validator("retention_days", "noncurrent_version_days", "cold_after_days")
    @classmethod
    def _at_most(cls, value: Optional[int], info: ValidationInfo) -> Optional[int]:
        provider = info.data.get("provider")
        limit = max_days(provider)
        if value is not None and value > limit:
            why = "100 years, the most the kit sets" if limit == MAX_DAYS else f"the most {provider} takes"
            raise ValueError(f"is more than {limit} days ({why}); {days_expected(provider, str(info.field_name))}")
        return value

    @field_validator("cold_after_days")
    @classmethod
    def _cold_after(cls, value: Optional[int], info: ValidationInfo) -> Optional[int]:
        if value is None:
            return value
        provider = info.data.get("provider")
        cold = COLD_CLASS_NAME.get(str(provider), "the cold class")
        if value < COLD_AFTER_MIN_DAYS:
            raise ValueError(
                f"is fewer than {COLD_AFTER_MIN_DAYS} days; expected {COLD_AFTER_MIN_DAYS}-{max_days(provider)} (the kit's "
                f"earliest move to {cold}: recordings are read most in their first month, and every read there is charged), or 0 for off"
            )
        retention = info.data.get("retention_days")
        if retention is not None and value >= retention:
            # Nothing would stay cold: each recording would pay the move and the class's minimum storage for nothing.
            raise ValueError(
                f"is not fewer than {qualified('retentionDays')} ({retention}), so recordings would be deleted before or as they move to "
                f"{cold}; expected fewer days than that, or 0 for off"
            )
        return value


# WORM modes (`immutableMode`): governance can be lifted by an administrator holding the cloud's special
# permission; compliance by nobody, ever (README: "WORM retention").
IMMUTABLE_MODES: dict[str, str] = dict(zip(WORM_MODES, (
    "the default: an administrator with the cloud's special permission can still shorten or lift it",
    "nobody can shorten or lift it, ever, not even the account's owner",
)))
ImmutableMode = Literal["governance", "compliance"]


def _immutable_mode(value: Any) -> Any:
    """`governance` or `compliance`, exactly (blank: absent); anything else is a plain refusal, never a guess."""
    value = _blank_is_absent(value)
    if value is not None and value not in IMMUTABLE_MODES:
        choices = "; ".join(f"{mode} ({why})" for mode, why in IMMUTABLE_MODES.items())
        raise ValueError(f"is not a WORM mode this kit knows{did_you_mean(str(value), IMMUTABLE_MODES)}; expected {choices}")
    return value


def _flag(value: Any, blank: bool = False) -> Any:
    """A boolean key as Pulumi's own config reads one: true/True or false/False (blank: `blank`, the key's
    default); never a guess at `yes`, `1` or `on`."""
    if value in (None, ""):
        return blank
    if isinstance(value, bool):
        return value
    if value in ("true", "True"):
        return True
    if value in ("false", "False"):
        return False
    raise ValueError("is not a boolean; expected true or false")


Flag = Annotated[bool, BeforeValidator(_flag)]
# A boolean key whose default is true: blank keeps it on.
FlagOn = Annotated[bool, BeforeValidator(lambda value: _flag(value, blank=True))]


class ComplianceSettings(SettingsBase):
    """WORM retention and the audit of every read and write, on every cloud (after the retention keys, which
    `immutableDays` is held to)."""

    immutable_days: DayCount = None
    immutable_mode: Annotated[Optional[ImmutableMode], BeforeValidator(_immutable_mode)] = None
    audit_logs: Flag = False

    @field_validator("immutable_days")
    @classmethod
    def _immutable_days(cls, value: Optional[int], info: ValidationInfo) -> Optional[int]:
        if value is None:
            return value
        if value > MAX_WORM_DAYS:  # within every cloud's (components/compliance.py)
            raise ValueError(f"is more than {MAX_WORM_DAYS} days (100 years, the most the kit sets); expected a whole number of days from 1 "
                             f"to {MAX_WORM_DAYS}")
        retention = info.data.get("retention_days")
        if retention is not None and retention < value:
            # The lifecycle rule would try to delete what WORM still protects; on S3 it would hide the recording behind a delete marker.
            raise ValueError(
                f"is more than {qualified('retentionDays')} ({retention}): recordings would be due for deletion while WORM still "
                f"forbids it; expected at most {retention} days, or a longer {qualified('retentionDays')}"
            )
        return value

    def compliance_problems(self) -> list[tuple[str, str]]:
        """Problems between these keys, as (config key, what is wrong); judged once every key is valid, so a bad
        immutableDays is never also reported as missing."""
        if self.immutable_mode is not None and self.immutable_days is None:
            return [(qualified("immutableMode"), f"has no effect without {qualified('immutableDays')}; set how many days recordings "
                                                 "are kept WORM, or remove it")]
        return []

    @property
    def worm_mode(self) -> Optional[str]:
        """The WORM mode in force: None when off, else the one set or the default."""
        return None if self.immutable_days is None else (self.immutable_mode or DEFAULT_WORM_MODE)


# `tavusAccess`: whether the stack lets Tavus in. Revoked removes the trust and the grant on the next
# `pulumi up` and keeps every recording and every storage setting (README: "Incident: cut Tavus off").
TavusAccess = Literal["granted", "revoked"]


def _tavus_access(value: Any) -> Any:
    """`granted` or `revoked`, exactly (blank: the default); anything else is a plain refusal, never a guess."""
    value = _plain_text(value)
    if value in (None, ""):
        return TAVUS_ACCESS_GRANTED
    if value not in TAVUS_ACCESS:
        raise ValueError(
            f"is not an access this kit knows{did_you_mean(str(value), TAVUS_ACCESS)}; expected granted (the default: "
            "Tavus may write recordings) or revoked (cut Tavus off, keep every recording)"
        )
    return value


class AccessSettings(SettingsBase):
    """`tavusAccess`, on every cloud."""

    tavus_access: Annotated[TavusAccess, BeforeValidator(_tavus_access)] = TAVUS_ACCESS_GRANTED


# The most JSON text `tags` may be: the largest tags any cloud takes (49 of AWS's or Azure's 128-character
# keys and 256-character values beside managed-by) are under 20,000 characters, and every one of them
# written as a six-character JSON escape still fits. Anything longer is refused before it is parsed.
MAX_TAGS_TEXT_LENGTH = 256 * 1024


class _DuplicateTag(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal keys; a tag given twice is a mistake to name, not to guess at.
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateTag(key)
        seen[key] = value
    return seen


def _tags_object(value: Any) -> Any:
    """Pulumi hands an object-typed key over as JSON text; tags are strings to strings."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        if len(value) > MAX_TAGS_TEXT_LENGTH:
            raise ValueError(f"is {len(value)} characters of JSON, more than any cloud's tags; expected at most {MAX_TAGS_TEXT_LENGTH}")
        try:
            value = json.loads(value, object_pairs_hook=_unique_keys)
        except _DuplicateTag as duplicate:
            raise ValueError(f"names tag {shown(duplicate.args[0])} twice; expected each tag once") from None
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            value = None
    if not isinstance(value, dict):
        raise ValueError("is not an object; expected keys and values that are strings, e.g. {team: recordings}")
    for key, tag in value.items():
        if not isinstance(tag, str):
            raise ValueError(f"has {shown(key)} set to {shown(tag)}; expected a string (quote it in the stack file)")
    return value


def _tag_text_problem(tags: dict[str, str]) -> Optional[str]:
    """The first tag key or value that is not plain text of a sane length, whatever the cloud."""
    for key, tag in tags.items():
        for what, text in ((f"key {shown(key)}", key), (f"the value of {shown(key)}", tag)):
            problem = text_problem(text)
            if problem:
                return f"{what} {problem}"
    return None


class TagSettings(SettingsBase):
    """`tags`, judged last by the provider's own rules (so it must come after every other key)."""

    tags: Annotated[dict[str, str], BeforeValidator(_tags_object)] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        provider = info.data.get("provider")
        problem = _tag_text_problem(value) or (TAGS_PROBLEM[provider](with_default(value)) if provider in TAGS_PROBLEM else None)
        if problem:
            raise ValueError(problem)
        return value
