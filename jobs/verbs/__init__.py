"""The `wif` verbs, one module each: `HELP`, `configure(parser)` and `run(args, settings) -> exit code`.

A verb only wires the packages together; the scheduler runs verbs, nothing else.
"""
