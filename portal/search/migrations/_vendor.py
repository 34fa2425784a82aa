"""What the search migrations run for one database only: each has its own full-text machinery (PostgreSQL's GIN
indexes and functions, SQLite's FTS5 table and triggers). A module whose name starts with `_` is not a migration."""


def run_for_vendor(statements_by_vendor: dict[str, tuple[str, ...]]):
    """A RunPython function executing the statements listed for the migrating connection's vendor, if any."""

    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run
