"""What a verify run found: one `Check` per property Tavus relies on, and the report around them.

A check passes (`ok=True`), fails (`ok=False`, with the fix), or is unknown (`ok=None`): the caller
could not read what it needs (access denied, cloud unreachable), and the detail names what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from tavus_recording.rules.findings import Finding
from tavus_recording.terminal import printable

# Shown in the human table, in front of each check.
MARKS = {True: "✔", False: "✘", None: "?"}


@dataclass(frozen=True)
class Check:
    id: str
    ok: Optional[bool]
    detail: str
    # How to mend a failing or unknown check: a `pulumi up`, a console path or a CLI line.
    fix: str = ""

    def as_json(self) -> dict[str, Any]:
        detail = f"{self.detail} Fix: {self.fix}" if self.fix and self.ok is not True else self.detail
        return {"id": self.id, "ok": self.ok, "detail": detail}


class CannotVerify(Exception):
    """verify cannot look at all (no credentials, no reachable cloud): one line, exit 2, no checks."""


def restore(what: str) -> str:
    """The fix for a setting the stack manages that was changed outside Pulumi."""
    # Plain `pulumi up` compares with Pulumi's saved state, which still holds the kit's value.
    return f"run `pulumi up --refresh` for this stack to restore the kit's {what} (plain `pulumi up` would change nothing)"


def from_findings(check_id: str, findings: Iterable[Finding], passing: str, subject: str = "") -> Check:
    """One check from a shared rule's findings: failed if any holds, else unknown if any could not be
    told, else passed with `passing`. Problems (each a clause about `subject`, as the policy pack also
    prints them) and fixes are joined in order, each once."""
    found = [f for f in findings if f.rule == check_id or check_id.startswith(f"{f.rule}.")]
    chosen = [f for f in found if not f.unknown] or [f for f in found if f.unknown]
    if not chosen:
        return passed(check_id, passing)
    detail = "; ".join(dict.fromkeys(f.problem for f in chosen))
    detail = f"{subject} {detail}" if subject else detail
    fix = "; ".join(dict.fromkeys(f.fix for f in chosen if f.fix))
    return Check(check_id, None if chosen[0].unknown else False, detail, fix)


# A bucket named with existingBucket (S3 or GCS) is only looked up: `pulumi up` changes none of its settings.
UNMANAGED_BUCKET = "this stack does not manage the bucket: it was named with existingBucket"


def storage_managed(outputs: Any) -> bool:
    """Whether the stack made its storage: `storage_managed` is false for existing storage, and absent on
    stacks deployed before that output, which always made theirs."""
    return outputs.get("storage_managed") is not False


def storage_fix(managed: bool, restore: str, direct: str, unmanaged: str) -> str:
    """A storage check's fix: `restore` (with `pulumi up`) for storage the stack made; for storage it only
    looked up, `direct` alone and `unmanaged`, why `pulumi up` would not help."""
    return restore if managed else f"{direct} ({unmanaged})"


def passed(check_id: str, detail: str) -> Check:
    return Check(check_id, True, detail)


def failed(check_id: str, detail: str, fix: str) -> Check:
    return Check(check_id, False, detail, fix)


def unknown(check_id: str, detail: str, fix: str = "") -> Check:
    return Check(check_id, None, detail, fix)


def skipped(check_ids: list[str] | tuple[str, ...], reason: str) -> list[Check]:
    """Checks that could not be made because something they read is missing or unreadable."""
    return [unknown(check_id, f"not checked: {reason}") for check_id in check_ids]


@dataclass
class Report:
    provider: str
    # Who was checked, for the table's heading (bucket, role, account...).
    subject: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok is True for check in self.checks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def as_json(self) -> dict[str, Any]:
        return {"provider": self.provider, "ok": self.ok, "checks": [check.as_json() for check in self.checks]}

    def render(self) -> str:
        """The table for a person: a mark, the id and what was found; the fix under each miss."""
        # Names and messages read from outside (a bucket, an API's answer) can hold escape sequences:
        # shown escaped, never sent to the terminal.
        width = max((len(check.id) for check in self.checks), default=0)
        lines = [f"Verifying {self.provider} destination: {printable(self.subject)}", ""]
        for check in self.checks:
            lines.append(f"  {MARKS[check.ok]} {check.id.ljust(width)}  {printable(check.detail)}")
            if check.fix and check.ok is not True:
                lines.append(f"    {' ' * width}  fix: {printable(check.fix)}")
        counts = {mark: sum(1 for check in self.checks if check.ok is mark) for mark in (True, False, None)}
        lines += [
            "",
            f"{counts[True]} passed, {counts[False]} failed, {counts[None]} unknown: "
            + ("Tavus can write here." if self.ok else "Tavus may not be able to write here; see the fixes above."),
        ]
        return "\n".join(lines)
