"""A parse worker process (`python -m profreg_lsp.parseworker`), started by
`lsp/workerpipe.py`: it reads jobs of profile blocks from stdin and answers each a chunk at
a time, from the last chunk backwards, with what the blocks' parses give
(`incremental.parse_segments`), until the server says it needs no more of the job or a new
job comes; it ends with its input."""
from __future__ import annotations

import gc
import sys

from .incremental import parse_segments
from .workerpipe import read_message, waiting, write_message


def main() -> None:
    gc.disable()  # a short-lived process whose objects are all kept until it answers
    # unbuffered (`python -u` has them so already): `waiting` sees every message
    stdin, stdout = (getattr(s.buffer, "raw", s.buffer) for s in (sys.stdin, sys.stdout))
    message = None
    while True:
        try:
            message = message if message is not None else read_message(stdin)
        except EOFError:
            return
        number, job = message
        message = None
        if number == "stop":  # for a job already answered
            continue
        limits, chunks = job
        for first, blocks in reversed(chunks):
            if waiting(stdin):
                try:
                    message = read_message(stdin)
                except EOFError:
                    return
                if message == ("stop", number):
                    message = None
                    break
                if message[0] != "stop":
                    break  # a new job: this one is no longer wanted
                message = None
            try:
                answer = parse_segments(limits, [(first, blocks)])
            except Exception:  # the server parses these blocks itself
                answer = {}
            write_message(stdout, (number, first, len(blocks), answer))
        else:
            write_message(stdout, (number, -1, -1, {}))  # the job's last chunk is out


if __name__ == "__main__":
    main()
