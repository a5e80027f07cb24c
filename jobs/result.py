"""What a verb did, as data: the CLI prints it, the scheduler records it in the job run.

Nothing reads a verb's output by capturing stdout: two jobs running at once on two threads each get their own
result, and `sys.stdout` stays the terminal's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import ExitCode, WifError


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)  # for stdout
    errors: list[str] = field(default_factory=list)  # for stderr: one line per failure
    counts: dict[str, int] = field(default_factory=dict)
    exit_code: int = ExitCode.OK

    def say(self, line: str) -> None:
        self.lines.append(line)

    def fail(self, line: str, exit_code: int) -> Result:
        self.errors.append(line)
        self.exit_code = exit_code
        return self

    def count(self, **counts: int) -> None:
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + value

    @property
    def summary(self) -> str:
        """One line for the job run: what it said, then what went wrong."""
        return " | ".join(
            line.strip() for text in self.lines + self.errors for line in text.splitlines() if line.strip()
        )

    @classmethod
    def of_error(cls, prefix: str, error: WifError) -> Result:
        return cls().fail(f"{prefix}: {error}", error.exit_code)


def execute(prefix: str, verb, args, settings, database) -> Result:
    """Run a verb; an error of the family ends it as a result: one line, its exit code."""
    try:
        return verb.run(args, settings, database)
    except WifError as error:
        return Result.of_error(prefix, error)
