"""Live events: render the fragments once, send them to the thread's channel-layer group (after commit)."""


def thread_group(thread_id: int) -> str:
    return f"thread.{thread_id}"


def comment_broadcast(*, comment_id: int, event: str) -> None:
    pass


def reaction_broadcast(*, comment_id: int, count: int) -> None:
    pass
