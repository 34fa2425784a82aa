"""Demo proposals and votes for `seed_demo`: idempotent."""


def seed(*, stdout) -> None:
    pass
