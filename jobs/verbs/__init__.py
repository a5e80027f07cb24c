"""The `wif` verbs, one module each: `HELP`, `configure(parser)` and `run(args, settings, database) -> Result`.

A verb only wires the packages together and returns what it did (`jobs.result.Result`): the CLI prints it, the
scheduler records it; an error that ends it is a `core.errors.WifError`, whose exit code the CLI returns. The
scheduler runs verbs, nothing else. `database` is the process's one `core.db.Database`, opened on first use.
"""
