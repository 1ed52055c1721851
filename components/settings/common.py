"""What every cloud's settings share: the model's base, the keys all providers take, and the small
validators the per-cloud modules build on.

Pulumi hands a program every declared key, defaults included, so an optional key's "absent" is its
Pulumi.yaml default: "" for text, 0 for a number of days and {} for `tags`. The kit's own defaults
(30 days, `US`, `recordings`, ...) are applied by the components, so a key the user did not set is
never mistaken for one they did.
"""

from __future__ import annotations

import difflib
import json
from typing import Annotated, Any, Callable, ClassVar, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

from components.tags import TAGS_PROBLEM, with_default
from components.tavus import Provider

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


def _blank_is_absent(value: Any) -> Any:
    return None if value == "" else value


def _zero_is_absent(value: Any) -> Any:
    return None if value in (0, "0", "") else value


OptionalText = Annotated[Optional[str], BeforeValidator(_blank_is_absent)]
DayCount = Annotated[Optional[Annotated[int, Field(ge=1)]], BeforeValidator(_zero_is_absent)]


class ProviderSettings(SettingsBase):
    """`provider`, first: every other key is judged by it."""

    provider: Provider


class RetentionSettings(SettingsBase):
    """How long recordings and their superseded versions are kept, on every cloud."""

    retention_days: DayCount = None
    noncurrent_version_days: DayCount = None


def _tags_object(value: Any) -> Any:
    """Pulumi hands an object-typed key over as JSON text; tags are strings to strings."""
    if value in (None, ""):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, dict):
        raise ValueError("is not an object; expected keys and values that are strings, e.g. {team: recordings}")
    for key, tag in value.items():
        if not isinstance(tag, str):
            raise ValueError(f"has {key!r} set to {tag!r}; expected a string (quote it in the stack file)")
    return value


class TagSettings(SettingsBase):
    """`tags`, judged last by the provider's own rules (so it must come after every other key)."""

    tags: Annotated[dict[str, str], BeforeValidator(_tags_object)] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        provider = info.data.get("provider")
        problem = TAGS_PROBLEM[provider](with_default(value)) if provider in TAGS_PROBLEM else None
        if problem:
            raise ValueError(problem)
        return value
