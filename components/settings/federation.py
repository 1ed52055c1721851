"""The keys that name the token Tavus presents, for the federated clouds (GCS and Azure)."""

from __future__ import annotations

from typing import ClassVar, Optional

from pydantic import Field, ValidationInfo, field_validator

from components.naming import issuer_problem
from components.settings.common import OptionalText, SettingsBase, required_for

FROM_TAVUS = "Tavus's recording guide gives it (GCS and Azure tabs)"
# Google caps the mapped google.subject at 127 bytes; Entra caps a federated subject at 600.
_MAX_SUBJECT_BYTES = {"gcs": 127, "azure_blob": 600}


# Validators name the module's own providers: pydantic binds them to the composed model's class.
_PROVIDERS = ("gcs", "azure_blob")

class FederationSettings(SettingsBase):
    PROVIDERS: ClassVar[tuple[str, ...]] = _PROVIDERS

    tavus_oidc_issuer: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_subject: OptionalText = Field(default=None, validate_default=True)
    tavus_oidc_audience: OptionalText = None

    @field_validator("tavus_oidc_issuer")
    @classmethod
    def _issuer(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        issuer = required_for(value, info, _PROVIDERS, FROM_TAVUS)
        if issuer is None:
            return value
        # Kept exactly as given: it must equal the `iss` claim of Tavus's tokens, so no normalizing.
        problem = issuer_problem(issuer)
        if problem:
            raise ValueError(f"is not an https issuer URL (it {problem}); expected e.g. https://issuer.example.com ({FROM_TAVUS})")
        return issuer

    @field_validator("tavus_oidc_subject")
    @classmethod
    def _subject(cls, value: Optional[str], info: ValidationInfo) -> Optional[str]:
        subject = required_for(value, info, _PROVIDERS, FROM_TAVUS)
        if subject is None:
            return value
        limit = _MAX_SUBJECT_BYTES[info.data["provider"]]
        if len(subject.encode()) > limit or not subject.isprintable():
            raise ValueError(f"is not a usable subject; expected at most {limit} bytes of printable text")
        return subject
