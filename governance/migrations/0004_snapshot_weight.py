import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('governance', '0003_risk_parameter_change'),
    ]

    operations = [
        migrations.CreateModel(
            name='SnapshotWeight',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('voter', models.CharField(help_text='Checksummed address.', max_length=42)),
                ('weight', models.CharField(help_text='Token units at the snapshot block.', max_length=80)),
                ('read', models.DateTimeField(default=django.utils.timezone.now)),
                ('proposal', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='snapshot_weights', to='governance.proposal')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('proposal', 'voter'), name='governance_one_weight_per_voter')],
            },
        ),
    ]
