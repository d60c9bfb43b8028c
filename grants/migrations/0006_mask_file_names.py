"""File names kept before they were masked on upload: mask them now (names only; the files are untouched)."""

from django.db import migrations

from unionfunds.core.uploads import display_file_name


def mask_names(apps, schema_editor):
    for model, field in (("Attachment", "original_name"), ("Expenditure", "voucher_name")):
        rows = apps.get_model("grants", model).objects.filter(**{f"{field}__regex": r"[0-9]{11}"})
        for row in rows.only("pk", field).iterator():
            masked = display_file_name(getattr(row, field))
            if masked != getattr(row, field):
                setattr(row, field, masked)
                row.save(update_fields=[field])


class Migration(migrations.Migration):
    dependencies = [("grants", "0005_change_feed")]

    operations = [migrations.RunPython(mask_names, migrations.RunPython.noop)]
