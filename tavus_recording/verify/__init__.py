"""`verify`: check a deployed destination against the live cloud and, optionally, the Tavus API.

`report` holds the check and report types every cloud shares, `outputs` reads a stack's outputs,
and one module per cloud (`aws`, `gcp`, `azure`) runs that cloud's checks with its SDK's default
credentials. A cloud's module is imported only when a stack of that cloud is verified, so an
AWS-only install never needs the Google or Azure clients. `--tavus` is `tavus_api` (the request and
what the answer means), `tavus_settings` (the key, replica and URL checked before anything is sent),
`tavus_exchange` (one bounded POST: no redirects, one deadline, a size cap) and `redact` (the key kept
out of whatever is printed).
"""
