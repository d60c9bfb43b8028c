"""Unions join the change feed (``unionfunds.core.changes``): ``change_xid``, its index and the triggers that set it.
Rows written before keep 0: they come first in the feed, by id."""

from django.db import migrations, models

from unionfunds.core.changes import TrackChanges


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_change_feed'),
        ('members', '0005_api_client'),
    ]

    operations = [
        migrations.AddField(
            model_name='union',
            name='change_xid',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name='union',
            index=models.Index(fields=['change_xid', 'id'], name='members_union_feed'),
        ),
        TrackChanges('union'),
    ]
