"""The group commit under an SMTP run's connections: each caller returns only once its own
'sending' is committed, callers that arrive during a commit share the next one, and a failed
commit is every one of its callers' error (none of them may send its message)."""

from __future__ import annotations

import threading
import time

import pytest

from newsletter.emit.group_commit import GroupCommit


def _committer(first_started: threading.Event, release: threading.Event):
    committed: list[list[str]] = []

    def commit(items: list[str]) -> None:
        if not committed and not first_started.is_set():
            first_started.set()
            release.wait()  # the first commit is slow: the others arrive meanwhile
        committed.append(list(items))

    return committed, commit


def _submit_all(group: GroupCommit[str], items: list[str], returned: list[str],
                errors: list[BaseException]) -> list[threading.Thread]:
    def one(item: str) -> None:
        try:
            group.submit(item)
            returned.append(item)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads


def _wait_until_queued(group: GroupCommit[str], count: int) -> None:
    """Until `count` callers wait in the open batch (no timed wait on a threading primitive:
    the moved-clock run would hang on one)."""
    while True:
        with group._turn:
            if len(group._open.items) == count:
                return
        time.sleep(0.001)


def test_marks_that_arrive_during_a_commit_share_the_next_one():
    first_started, release = threading.Event(), threading.Event()
    committed, commit = _committer(first_started, release)
    group: GroupCommit[str] = GroupCommit(commit)
    returned: list[str] = []
    errors: list[BaseException] = []
    (first,) = _submit_all(group, ["a"], returned, errors)
    first_started.wait()
    others = _submit_all(group, ["b", "c", "d"], returned, errors)
    _wait_until_queued(group, 3)
    assert returned == []  # nobody goes on before its own mark is on disk
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert errors == []
    assert committed[0] == ["a"]
    assert sorted(committed[1]) == ["b", "c", "d"] and len(committed) == 2
    assert sorted(returned) == ["a", "b", "c", "d"]
    assert group.commits == 2


def test_a_failed_commit_is_the_error_of_every_caller_in_it_and_the_next_commit_works():
    first_started, release = threading.Event(), threading.Event()
    calls: list[list[str]] = []

    def commit(items: list[str]) -> None:
        calls.append(list(items))
        if len(calls) == 1:
            first_started.set()
            release.wait()
        elif len(calls) == 2:
            raise OSError("disk full")

    group: GroupCommit[str] = GroupCommit(commit)
    returned: list[str] = []
    errors: list[BaseException] = []
    (first,) = _submit_all(group, ["a"], returned, errors)
    first_started.wait()
    others = _submit_all(group, ["b", "c"], returned, errors)
    _wait_until_queued(group, 2)
    release.set()
    for thread in [first, *others]:
        thread.join()
    assert returned == ["a"]
    assert [str(error) for error in errors] == ["disk full", "disk full"]
    group.submit("e")  # the failure did not leave the group stuck
    assert calls[-1] == ["e"]


def test_one_caller_alone_commits_at_once():
    committed: list[list[int]] = []
    group: GroupCommit[int] = GroupCommit(lambda items: committed.append(list(items)))
    for n in range(3):
        group.submit(n)
    assert committed == [[0], [1], [2]]


@pytest.mark.parametrize("threads", [4, 16])
def test_every_item_is_committed_exactly_once_under_contention(threads):
    committed: list[int] = []
    on_disk: set[int] = set()
    early: list[int] = []  # returned before their own commit

    def commit(items: list[int]) -> None:
        committed.extend(items)
        on_disk.update(items)

    group: GroupCommit[int] = GroupCommit(commit)
    items = list(range(threads * 200))

    def run(share: list[int]) -> None:
        for item in share:
            group.submit(item)
            if item not in on_disk:
                early.append(item)

    workers = [threading.Thread(target=run, args=(items[n::threads],)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert early == []
    assert sorted(committed) == items
