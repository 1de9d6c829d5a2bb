"""Seeding an app's notification templates from its data migration, the one way every app does it.

Migrations call this: change what it does only by adding a new function, never by editing this one.
"""


def template_seeder(templates: list[dict]):
    """A RunPython function that creates version 1 of each template whose key is not there yet."""

    def create(apps, schema_editor):
        Template = apps.get_model("notify", "Template")
        for values in templates:
            Template.objects.get_or_create(key=values["key"], version=1, defaults=values)

    return create
