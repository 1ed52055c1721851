"""Local stand-ins for the cloud and Tavus APIs that `verify` talks to: loopback only, bounded, self-stopping."""
