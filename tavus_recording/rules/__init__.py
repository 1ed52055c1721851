"""The guardrails' shared rules: pure functions that judge a destination, with no cloud SDK.

`verify` (after a deploy, from the live cloud) and the policy pack in policy/ (before one, from the
engine's resources) both judge with these, so a finding reads the same on either side.
"""
