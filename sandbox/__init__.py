"""A local DS: DS's GraphQL API v2 as its public schema of January 2026 describes it, served over real
HTTP, for any client (README, « The DS sandbox, for any DS client »). It imports nothing of the connector.

Entry points:
- `sandbox.generator.seeded_store(n, seed, today=None, groupe_labels=None)` -> `Store`;
  `sandbox.every_champ.add_every_champ_demarche(store, n, seed)` adds the démarche of every champ type;
- `sandbox.server.start_server(store, host, port, rate_limit, window_seconds)` -> `SandboxServer`
  (context manager; `.url`, `.token`, `.faults`, `.request_log`, `.stop()`);
- `sandbox.store.Store`: test hooks (`modify`, `set_state`, `trash`, `restore`, `delete`,
  `add_message`, `add_avis`, `visible_dossiers`, `intent`, `add_token`, `publish_revision`,
  `apply_due_rebases`, `mutation_log`) and the démarche drift methods on `store.demarches[n]`
  (`remove_champ`, `rename_champ`, `change_champ_type`, `remove_annotation`);
- `wif sandbox` (jobs.verbs.sandbox) to run it by hand.
"""
