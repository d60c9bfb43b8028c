"""Evidence file names kept before they were masked on upload: mask them now (the files are untouched)."""

from django.db import migrations

from unionfunds.core.uploads import display_file_name


def mask_names(apps, schema_editor):
    rows = apps.get_model("evaluation", "EvidenceFile").objects.filter(original_name__regex=r"[0-9]{11}")
    for row in rows.only("pk", "original_name").iterator():
        masked = display_file_name(row.original_name)
        if masked != row.original_name:
            row.original_name = masked
            row.save(update_fields=["original_name"])


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0002_survey_token_default")]

    operations = [migrations.RunPython(mask_names, migrations.RunPython.noop)]
