"""Argon2id with parameters from settings (OWASP: m ≥ 19 MiB, t ≥ 2, p = 1)."""

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class TesseraArgon2PasswordHasher(Argon2PasswordHasher):
    algorithm = "argon2"

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_TIME_COST

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return settings.ARGON2_MEMORY_COST

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return settings.ARGON2_PARALLELISM
