"""A full disk told apart from other failures, so that the job or import it stops says so
instead of failing as an internal error.

PyTorch reports a write that failed for want of space as a RuntimeError ("unexpected pos
...") raised while it handled the OSError, so the whole chain of causes is searched.
"""
from __future__ import annotations

import errno

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def out_of_space(exc: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False
