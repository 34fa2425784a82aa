from django.db import migrations

CATEGORIES = [
    # slug, name, description, position, staff_only, listed
    ("governance", "Governance", "Proposals, parameters and the DAO's direction.", 1, False, True),
    ("general", "General", "Everything else about the lending DAO.", 2, False, True),
    ("support", "Support", "Questions about using the protocol or this portal.", 3, False, True),
    ("announcements", "Announcements", "News from the team. Only moderators start threads here.", 4, True, True),
    ("feedback", "Feedback", "Comment threads of feedback posts.", 5, False, False),
]


def seed(apps, schema_editor):
    Category = apps.get_model("discussion", "Category")
    for slug, name, description, position, staff_only, listed in CATEGORIES:
        Category.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "position": position,
                "staff_only": staff_only,
                "listed": listed,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("discussion", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
