"""Deploy the demo contracts on the dev chain for `seed_demo` (idempotent: reuses recorded addresses)."""


def seed_chain(*, stdout) -> None:
    pass
