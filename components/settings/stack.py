"""One stack's settings: every cloud's keys in one model, checked together, and the one readable
RunError a bad stack gets.

Every key is validated here, before `__main__.py` registers any resource. Keys live in the
`tavus-recording:` namespace (declared in Pulumi.yaml); provider keys such as `aws:region` keep
their own namespace. Each cloud's keys and rules live in its own module; which provider a key
applies to is read off the module that declares it.
"""

from __future__ import annotations

from typing import Any, Mapping, TypeVar

import pulumi
from pydantic import ValidationError, model_validator
from pydantic.alias_generators import to_camel

from components.settings.aws import AWS_REGION_KEY, AwsSettings
from components.settings.azure import AZURE_LOCATION_KEY, AzureSettings
from components.settings.common import (
    NAMESPACE,
    ProviderSettings,
    RetentionSettings,
    SettingsBase,
    TagSettings,
    bare,
    closest,
    qualified,
)
from components.settings.federation import FederationSettings
from components.settings.gcp import GCP_PROJECT_KEY, GcsSettings
from components.tavus import PROVIDERS

# Provider keys this kit reads; everything else outside our namespace is Pulumi's business.
PROVIDER_KEYS = (AWS_REGION_KEY, GCP_PROJECT_KEY, AZURE_LOCATION_KEY)
# Each cloud's keys, in the order they appear in the model (and in a stack file `init` writes).
CLOUD_SETTINGS: tuple[type[SettingsBase], ...] = (AwsSettings, FederationSettings, GcsSettings, AzureSettings)
# The module whose cross-key rules (and region key) each provider follows.
PROVIDER_SETTINGS: dict[str, type[SettingsBase]] = {"s3": AwsSettings, "gcs": GcsSettings, "azure_blob": AzureSettings}


class StackSettings(TagSettings, RetentionSettings, AzureSettings, GcsSettings, FederationSettings, AwsSettings, ProviderSettings):
    """One stack's configuration, by its config key names (the aliases).

    pydantic takes fields from the last base first: `provider`, then each cloud's keys, then the
    retention keys all clouds share, and `tags` last, so every field validator sees the provider and
    the keys before it.
    """

    def _is_set(self, name: str) -> bool:
        return getattr(self, name) != type(self).model_fields[name].get_default(call_default_factory=True)

    @model_validator(mode="after")
    def _keys_make_sense_together(self) -> "StackSettings":
        # A value for another cloud is a mistake worth stopping for (e.g. `location` meant as the AWS
        # region), and so is one that an existing bucket would silently ignore; keys left at their
        # Pulumi.yaml default are fine.
        problems = [
            _misplaced(name, providers, self.provider)
            for name, providers in KEY_PROVIDERS.items()
            if self.provider not in providers and self._is_set(name)
        ]
        own = PROVIDER_SETTINGS[self.provider]
        for existing, ignored in own.IGNORED_BESIDE.items():
            if self._is_set(existing):
                problems += [_ignored(name, existing) for name in ignored if self._is_set(name)]
        problems += own.key_problems(self)
        if problems:
            raise _KeyProblems(problems)
        return self


def _key_providers() -> dict[str, tuple[str, ...]]:
    """Which providers each cloud-specific key applies to: those of every module that declares it.

    Provider keys (`aws:region`, ...) are left out: a stack may well carry another cloud's, e.g. the
    default `pulumi new` saves for every stack.
    """
    providers: dict[str, tuple[str, ...]] = {}
    for settings in CLOUD_SETTINGS:
        for name in settings.__annotations__:
            field = settings.model_fields.get(name)
            if field is not None and ":" not in (field.alias or ""):
                providers[name] = (*providers.get(name, ()), *settings.PROVIDERS)
    return providers


# Which providers each provider-specific key applies to; the rest apply to all.
KEY_PROVIDERS: dict[str, tuple[str, ...]] = _key_providers()
_EXISTING_WHAT = {"existing_bucket": "bucket", "existing_storage_account": "storage account"}


def _misplaced(name: str, providers: tuple[str, ...], provider: str) -> tuple[str, str]:
    # `location` is GCS's; on the other clouds the region has its own provider key.
    hint = f" (the region is {PROVIDER_SETTINGS[provider].REGION_KEY})" if name == "location" else ""
    return (
        config_key(name),
        f"applies only to provider {' or '.join(providers)}, but this stack's provider is {provider}; "
        "remove it from the stack" + hint,
    )


def _ignored(name: str, existing: str) -> tuple[str, str]:
    what = _EXISTING_WHAT[existing]
    return (
        config_key(name),
        f"cannot be used with {config_key(existing)}: with an existing {what} the kit creates no storage and "
        f"changes none of its settings, so this value would be ignored; remove one of the two",
    )


class _KeyProblems(ValueError):
    """Problems that involve more than one key, each already worded as (config key, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("keys that do not go together")
        self.problems = problems


ArgsT = TypeVar("ArgsT")


def args_for(settings: StackSettings, args_type: type[ArgsT]) -> ArgsT:
    """A component's args (a TypedDict whose keys are settings fields) from the settings that are set."""
    values = {key: getattr(settings, key) for key in args_type.__annotations__}
    return args_type(**{key: value for key, value in values.items() if value is not None})


def config_key(field_name: str) -> str:
    """The full config key of a settings field, e.g. `tavus-recording:bucketName`."""
    return qualified(StackSettings.model_fields[field_name].alias or to_camel(field_name))


def known_keys() -> list[str]:
    """Every config key this kit reads, fully qualified."""
    return [config_key(name) for name in StackSettings.model_fields]


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """(config key, what is wrong) for one pydantic error."""
    loc = str(error["loc"][0]) if error["loc"] else "provider"
    # pydantic reports a field by its alias, or by its name when a default was validated.
    key = config_key(loc) if loc in StackSettings.model_fields else qualified(loc)
    kind = error["type"]
    found = error.get("input")
    if kind == "extra_forbidden":
        known = {bare(known): known for known in known_keys()}
        close = closest(loc, known)
        suggestion = f" (did you mean '{known[close]}'?)" if close else ""
        return key, f"is not a key this kit knows{suggestion}; the keys are listed in Pulumi.yaml"
    if kind == "missing":
        return key, f"is required: one of {', '.join(PROVIDERS)}"
    if kind == "literal_error":
        return key, f"is {found!r}; expected one of {', '.join(PROVIDERS)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return key, f"is {found!r}; expected a whole number of days"
    if kind == "greater_than_equal":
        return key, f"is {found!r}; expected a whole number of days, at least {error['ctx']['ge']}"
    message = str(error["ctx"]["error"]) if kind == "value_error" else error["msg"]
    # Tags name the offending tag themselves; their JSON text would only be noise.
    return key, message if found in (None, "") or loc == "tags" else f"{found!r} {message}"


def _problems(exc: ValidationError) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _KeyProblems):
            problems.extend(cause.problems)
        else:
            problems.append(_problem(error))
    return problems


def parse_settings(config: Mapping[str, Any]) -> StackSettings:
    """Validate a Pulumi config map (full keys to values) into settings, or raise one RunError."""
    prefix = f"{NAMESPACE}:"
    values = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix)}
    values.update({key: config[key] for key in PROVIDER_KEYS if key in config})
    try:
        return StackSettings.model_validate(values)
    except ValidationError as exc:
        # Provider keys first, then ours in the model's order, as a stack file lists them.
        order = [*PROVIDER_KEYS, *known_keys()]
        ranked = sorted(_problems(exc), key=lambda problem: order.index(problem[0]) if problem[0] in order else len(order))
        lines = "\n".join(f"  - {key}: {what}" for key, what in ranked)
        raise pulumi.RunError(
            f"invalid stack configuration:\n{lines}\n"
            "Fix it with `pulumi config set <key> <value>` (or in stacks/Pulumi.<stack>.yaml); "
            "README.md describes every key."
        ) from None


def current_config() -> dict[str, Any]:
    """The config map Pulumi gave this program (the engine's PULUMI_CONFIG, plus any set in-process)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def load_settings() -> StackSettings:
    """This stack's settings, read once at the program's edge."""
    return parse_settings(current_config())
