"""Resetting the authentication layer's per-process state between tests and benchmark runs."""

from __future__ import annotations


def authn_reset_process_state() -> None:
    """Forget cached signing/verification keys, verified tokens and in-memory lockout counters.

    (Redis-held counters are cleared with the cache's database by the caller, if it wishes.)
    """
    from tessera.authn.api_keys import api_keys_clear_process_state
    from tessera.authn.keys import keys_clear_cache
    from tessera.authn.lockout import lockout_reset
    from tessera.authn.tokens import tokens_clear_cache

    api_keys_clear_process_state()
    keys_clear_cache()
    tokens_clear_cache()
    lockout_reset()
