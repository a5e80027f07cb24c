"""A local DS GraphQL API v2 (the subset the connector uses), served over real HTTP.

Entry points:
- `sandbox.generator.seeded_store(n, seed, today=None, groupe_labels=None)` -> `Store`;
- `sandbox.server.start_server(store, host, port, rate_limit, window_seconds)` -> `SandboxServer`
  (context manager; `.url`, `.token`, `.faults`, `.request_log`, `.stop()`);
- `sandbox.store.Store`: test hooks (`modify`, `set_state`, `trash`, `restore`, `delete`,
  `add_message`, `visible_dossiers`, `intent`, `add_token`, `mutation_log`) and the démarche drift
  methods on `store.demarches[n]` (`remove_champ`, `rename_champ`, `change_champ_type`, `remove_annotation`);
- `wif sandbox` (jobs.verbs.sandbox) to run it by hand.
"""
