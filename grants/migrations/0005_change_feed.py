"""Applications and allocations join the change feed (``unionfunds.core.changes``): ``change_xid``, its index and
the triggers that set it. Rows written before keep 0: they come first in the feed, by id."""

from django.db import migrations, models

from unionfunds.core.changes import TrackChanges


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_change_feed'),
        ('grants', '0004_allocation_status_index'),
    ]

    operations = [
        migrations.AddField(
            model_name='allocation',
            name='change_xid',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='application',
            name='change_xid',
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name='allocation',
            index=models.Index(fields=['change_xid', 'id'], name='grants_allocation_feed'),
        ),
        migrations.AddIndex(
            model_name='application',
            index=models.Index(fields=['change_xid', 'id'], name='grants_application_feed'),
        ),
        TrackChanges('allocation'),
        TrackChanges('application'),
    ]
