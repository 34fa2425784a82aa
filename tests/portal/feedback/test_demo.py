import io

import pytest

from portal.accounts import demo as accounts_demo
from portal.feedback import demo
from portal.feedback.models import Post, Vote

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_fills_the_queue_and_roadmap():
    accounts_demo.seed(stdout=io.StringIO())
    demo.seed(stdout=io.StringIO())
    counts = (Post.objects.count(), Vote.objects.count())
    demo.seed(stdout=io.StringIO())
    assert (Post.objects.count(), Vote.objects.count()) == counts
    assert Post.objects.filter(kind="question", solved_at__isnull=True).count() == 2
    assert set(Post.objects.values_list("status", flat=True)) >= {"planned", "in_progress", "done", "duplicate"}
    assert Post.objects.get(title="Add a USDC lending market").vote_count == 3  # #3 and #4 voted on both: once
    assert Post.objects.get(title="Delegate votes by category").proposal_number is not None
