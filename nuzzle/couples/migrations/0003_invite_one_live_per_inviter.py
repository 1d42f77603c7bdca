# At most one live invite per person, in the database.

from django.db import migrations, models
from django.db.models import Max


def revoke_all_but_the_newest_live_invite(apps, schema_editor):
    """Two invite creations at once could each leave a live invite (the race the lock in
    `invite_create` now prevents). Keep each person's newest one, as a later call would
    have, and revoke the others at the moment the newest was made, so the unique index
    below can be built."""
    Invite = apps.get_model("couples", "Invite")
    live = Invite.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    doubled = (
        live.values("inviter_id")
        .annotate(n=models.Count("id"), newest=Max("id"))
        .filter(n__gt=1)
        .values_list("inviter_id", "newest")
    )
    for inviter_id, newest_id in doubled:
        newest = Invite.objects.get(pk=newest_id)
        live.filter(inviter_id=inviter_id).exclude(pk=newest_id).update(
            revoked_at=newest.created_at
        )


class Migration(migrations.Migration):

    dependencies = [
        ('couples', '0002_user_allow_sensitive_questions'),
    ]

    operations = [
        migrations.RunPython(revoke_all_but_the_newest_live_invite, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='invite',
            constraint=models.UniqueConstraint(condition=models.Q(('accepted_at__isnull', True), ('revoked_at__isnull', True)), fields=('inviter',), name='invite_one_live_per_inviter'),
        ),
    ]
