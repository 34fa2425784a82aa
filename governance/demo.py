"""Demo content for `seed_demo`: idempotent."""


def seed(*, stdout) -> None:
    pass


def seed_chain(*, stdout) -> None:
    """Deploy the demo contracts on the dev chain (reusing recorded addresses when their code is there)."""
