"""The bridge between Django and the pure policy engine (`tessera.engine`).

`policy` compiles a member's roles, overrides, grants and delegations from the database into the
engine's input and caches it by version; `decisions` answers checks, batches, explanations, field
sets and access reviews from it; `guard` puts a decision in front of an API view.
"""
