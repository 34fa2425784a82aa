"""Word pairs for phrase search on PostgreSQL: `pairs` holds a token for every two lexemes that stand side by side in
an entry's tsvector, GIN-indexed, so a "quoted phrase" first finds the entries holding all its pairs through the
index and only those have their word positions re-read (without it, every entry holding the phrase's words was).
The token is the first 16 hex digits of md5(lexeme, space, lexeme): plain tsquery text whatever the words are."""

import django.contrib.postgres.search
from django.db import migrations

from portal.search.migrations._vendor import run_for_vendor

POSTGRESQL = (
    "CREATE FUNCTION search_pair_tokens(v tsvector) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT coalesce(array_agg(DISTINCT left(md5(a.lexeme || ' ' || b.lexeme), 16)), '{}') "
    "FROM (SELECT lexeme, unnest(positions) AS pos FROM unnest(v)) AS a "
    "JOIN (SELECT lexeme, unnest(positions) AS pos FROM unnest(v)) AS b ON b.pos = a.pos + 1 $$",
    "UPDATE search_searchentry SET pairs = array_to_tsvector(search_pair_tokens(vector)) WHERE vector IS NOT NULL",
    "CREATE INDEX search_entry_pairs ON search_searchentry USING gin (pairs)",
)
POSTGRESQL_DROP = ("DROP INDEX IF EXISTS search_entry_pairs", "DROP FUNCTION IF EXISTS search_pair_tokens(tsvector)")


class Migration(migrations.Migration):

    dependencies = [
        ("search", "0002_entry_kind_created"),
    ]

    operations = [
        migrations.AddField(
            model_name="searchentry",
            name="pairs",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(run_for_vendor({"postgresql": POSTGRESQL}),
                             run_for_vendor({"postgresql": POSTGRESQL_DROP})),
    ]
