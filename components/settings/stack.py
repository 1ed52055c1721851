"""One stack's settings: every cloud's keys in one model, checked together, and the one readable
RunError a bad stack gets.

Every key is validated here, before `__main__.py` registers any resource. Keys live in the
`tavus-recording:` namespace (declared in Pulumi.yaml); provider keys such as `aws:region` keep
their own namespace. Each cloud's keys and rules live in its own module; which provider a key
applies to is read off the module that declares it.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Optional, TypeVar

import pulumi
from pydantic import ValidationError, model_validator
from pydantic.alias_generators import to_camel

from components.naming import visible
from components.settings.aws import AWS_REGION_KEY, AwsSettings
from components.settings.azure import AZURE_LOCATION_KEY, AzureSettings
from components.settings.common import (
    NAMESPACE,
    AccessSettings,
    ComplianceSettings,
    ProviderSettings,
    RetentionSettings,
    SettingsBase,
    TagSettings,
    bare,
    closest,
    days_expected,
    qualified,
    shown,
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


class StackSettings(TagSettings, AccessSettings, ComplianceSettings, RetentionSettings, AzureSettings, GcsSettings, FederationSettings, AwsSettings, ProviderSettings):
    """One stack's configuration, by its config key names (the aliases).

    pydantic takes fields from the last base first: `provider`, then each cloud's keys, then the
    retention keys all clouds share, WORM and audit, `tavusAccess`, and `tags` last, so every field validator sees the provider and
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
        problems += own.key_problems(self) + self.compliance_problems()
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


# Fields a component only passes on into resources and outputs, so they may arrive as secret Outputs.
# The rest (storage names, day counts) decide what is built, in Python, and stay plain values.
SECRET_CAPABLE = frozenset({"external_id", "tavus_oidc_issuer", "tavus_oidc_subject", "tavus_oidc_audience", "kms_key_arn"})


def args_for(settings: StackSettings, args_type: type[ArgsT], secrets: frozenset[str] = frozenset()) -> ArgsT:
    """A component's args (a TypedDict whose keys are settings fields) from the settings that are set;
    the `secrets` among them that a component can take as Outputs are passed as secret Outputs."""
    values = {key: getattr(settings, key) for key in args_type.__annotations__}
    return args_type(
        **{
            key: pulumi.Output.secret(value) if key in secrets & SECRET_CAPABLE else value
            for key, value in values.items()
            if value is not None
        }
    )


def config_key(field_name: str) -> str:
    """The full config key of a settings field, e.g. `tavus-recording:bucketName`."""
    return qualified(StackSettings.model_fields[field_name].alias or to_camel(field_name))


def known_keys() -> list[str]:
    """Every config key this kit reads, fully qualified."""
    return [config_key(name) for name in StackSettings.model_fields]


def _problem(error: Mapping[str, Any], provider: Any = None) -> tuple[str, str]:
    """(config key, what is wrong) for one pydantic error; `provider` is the stack's, for the day-count range."""
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
        return key, f"is {shown(found)}; expected one of {', '.join(PROVIDERS)}"
    if kind in ("int_parsing", "int_parsing_size", "int_type", "int_from_float", "greater_than_equal"):
        return key, f"is {shown(found)}; {days_expected(provider, loc)}"
    message = str(error["ctx"]["error"]) if kind == "value_error" else error["msg"]
    # Tags name the offending tag themselves; their JSON text would only be noise.
    return key, message if found in (None, "") or loc == "tags" else f"{shown(found)} {message}"


def _problems(exc: ValidationError, provider: Any = None) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, _KeyProblems):
            problems.extend(cause.problems)
        else:
            problems.append(_problem(error, provider))
    return problems


_SHOWN_KEY_LENGTH = 100


def _shown_key(key: str) -> str:
    """A config key as a problem line names it: control characters escaped, and cut short when long."""
    if len(key) > _SHOWN_KEY_LENGTH:
        key = f"{key[:_SHOWN_KEY_LENGTH]}... ({len(key)} characters)"
    return visible(key)


def _squashed(namespace: str) -> str:
    return re.sub(r"[^a-z0-9]", "", namespace.lower())


def namespace_problems(config: Mapping[str, Any], project: Optional[str] = None) -> list[tuple[str, str]]:
    """Keys Pulumi passes to no one the way they are written, which would otherwise be silently ignored:
    a misspelt namespace (`tavus-recordings:`, `tavus_recording:`), a provider key written inside ours
    (`tavus-recording:aws:region`), or ours under a renamed project's namespace."""
    problems: list[tuple[str, str]] = []
    renamed = sorted(str(key) for key in config if project and project != NAMESPACE and str(key).startswith(f"{project}:"))
    if renamed:
        # Pulumi.yaml's declared keys follow the project's name: renaming it moves every one of them.
        problems.append((f"{project}:*", f"{len(renamed)} keys ({', '.join(map(_shown_key, renamed[:3]))}{', ...' if len(renamed) > 3 else ''}) are under the "
                                         f"project's name {project!r}, but the kit reads {NAMESPACE}:<key>: keep the project named "
                                         f"{NAMESPACE} (Pulumi.yaml `name:`), or write the keys as {NAMESPACE}:<key>"))
    for key in config:
        namespace, _, name = str(key).partition(":")
        if namespace == NAMESPACE:
            if ":" in name:
                problems.append((key, f"is a provider key written in this kit's namespace, which no provider reads; set {_shown_key(name)} itself"))
        elif namespace not in _PROVIDER_NAMESPACES and namespace != project and (
            _squashed(namespace).rstrip("s") == _squashed(NAMESPACE) or closest(namespace, [NAMESPACE]) is not None
        ):
            problems.append((key, f"is not in this kit's namespace, so nothing reads it (did you mean '{NAMESPACE}:{_shown_key(name)}'?)"))
        elif name in _OWN_NAMES and namespace != project:
            # `tavus:tavusAccess: revoked` would leave the stack granted without a word.
            problems.append((key, f"is this kit's key under namespace {_shown_key(namespace)!s}, which nothing reads (did you mean "
                                  f"'{NAMESPACE}:{_shown_key(name)}'?)"))
    return problems


# This kit's own key names, which no provider reads: one under another namespace is a mistake to name. Names a
# provider may also use (`azure-native:location`, `aws:defaultTags`-like `tags`, `provider`) are left out.
_OWN_NAMES = frozenset(bare(key) for key in known_keys() if key.startswith(f"{NAMESPACE}:")) - {"location", "tags", "provider"}
# Namespaces of the providers a stack may configure beside this kit: never this kit's typo.
_PROVIDER_NAMESPACES = frozenset({"aws", "gcp", "azure-native", "azure", "pulumi", "kubernetes", "random", "tls"})


def parse_settings(config: Mapping[str, Any], project: Optional[str] = None) -> StackSettings:
    """Validate a Pulumi config map (full keys to values) into settings, or raise one RunError.

    `project` is the Pulumi project's name, to catch keys written under a renamed project's namespace.
    """
    prefix = f"{NAMESPACE}:"
    values = {key[len(prefix):]: value for key, value in config.items() if key.startswith(prefix) and ":" not in key[len(prefix):]}
    values.update({key: config[key] for key in PROVIDER_KEYS if key in config})
    outside = namespace_problems(config, project)
    try:
        settings = StackSettings.model_validate(values)
        if not outside:
            return settings
        problems = outside
    except ValidationError as exc:
        problems = outside + _problems(exc, values.get("provider"))
    # Provider keys first, then ours in the model's order, as a stack file lists them.
    order = [*PROVIDER_KEYS, *known_keys()]
    ranked = sorted(problems, key=lambda problem: order.index(problem[0]) if problem[0] in order else len(order))
    # Keys and values come from the stack file: escaped, so each problem stays one plain line.
    lines = "\n".join(f"  - {_shown_key(key)}: {visible(what)}" for key, what in ranked)
    raise pulumi.RunError(
        f"invalid stack configuration:\n{lines}\n"
        "Fix it with `pulumi config set <key> <value>` (or in stacks/Pulumi.<stack>.yaml); "
        "README.md describes every key."
    ) from None


def current_config() -> dict[str, Any]:
    """The config map Pulumi gave this program (the engine's PULUMI_CONFIG, plus any set in-process)."""
    from pulumi.runtime import config as runtime_config

    return {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}


def secret_fields(config_keys: Any = None) -> frozenset[str]:
    """The settings fields whose config values are secrets (`pulumi config set --secret`).

    Pulumi hands a program its secrets decrypted, beside the list of which keys they are; anything
    made from one must stay a secret (in state and in the stack's outputs)."""
    from pulumi.runtime import config as runtime_config

    keys = set(config_keys if config_keys is not None else runtime_config.get_config_secret_keys_env())
    keys |= {key for key in current_config() if runtime_config.is_config_secret(key)}
    return frozenset(name for name in StackSettings.model_fields if config_key(name) in keys)


def load_settings() -> StackSettings:
    """This stack's settings, read once at the program's edge."""
    return parse_settings(current_config(), pulumi.get_project())
