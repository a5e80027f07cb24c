"""Every mutation of DS's API with DS's rules (docs/ds-mutations.md): errors as data, the instructeur
check, the states each change needs, a read-only token refused. `RESOLVERS` maps each mutation field
to its resolver."""

from sandbox.mutations import annotations, demarches, groupes, messages, states  # noqa: F401 - they register
from sandbox.mutations.base import NO_ACCESS, READ_ONLY, RESOLVERS, STATE_WORDS, Rejected

__all__ = ["NO_ACCESS", "READ_ONLY", "RESOLVERS", "STATE_WORDS", "Rejected"]
