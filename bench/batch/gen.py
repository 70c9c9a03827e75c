#!/usr/bin/env python3
"""Writes a batch input file (OpenAI Batch API JSONL, one chat completion per line) for bench/batch/run.sh.

  gen.py --lines 50000 --model M --max-tokens 4 --out in.jsonl [--line-bytes 4300] [--body-out body.json]

Every line is {"custom_id", "method": "POST", "url", "body": {"model", "messages": [user], "max_tokens"}} with a
distinct user message. With --line-bytes the message is padded with words so that every line (newline included) is
exactly that long: --lines 48000 --line-bytes 4300 gives a 206,400,000-byte file. --body-out also writes the body of
the first line alone, so the direct load generator sends the same bytes the batch does. Prints one line:
GEN lines=N bytes=B.
"""
import argparse
import json
import random

WORDS = ("the atoll reef tide lagoon coral island wave shore current gpu node fleet token model batch cache prefix "
         "stream queue quietly slowly brightly again soon far near deep warm clear sails drifts glows turns rests "
         "waits runs sings grows returns blue green silver calm open small bright long wide still moon sand wind light").split()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--max-tokens", type=int, required=True)
    p.add_argument("--endpoint", default="/v1/chat/completions")
    p.add_argument("--line-bytes", type=int, default=0, help="pad every line to exactly this many bytes (0: no padding)")
    p.add_argument("--out", required=True)
    p.add_argument("--body-out")
    a = p.parse_args()

    rng = random.Random(42)
    # A long pool of words to cut distinct padding from (cheap even for 200 MB).
    pool = " ".join(rng.choice(WORDS) for _ in range(200_000))
    total = 0
    with open(a.out, "w", encoding="ascii", newline="\n") as f:
        for i in range(a.lines):
            custom_id = f"req-{i:06d}"
            content = f"Request {i}: summarize the tide report in a few words."
            line = _line(custom_id, a.endpoint, a.model, content, a.max_tokens)
            if a.line_bytes:
                missing = a.line_bytes - (len(line) + 1)
                if missing < 2:
                    raise SystemExit(f"--line-bytes {a.line_bytes} is too small for line {i} ({len(line) + 1} bytes unpadded)")
                start = (i * 7919) % (len(pool) - missing)
                content += " " + pool[start:start + missing - 1]
                line = _line(custom_id, a.endpoint, a.model, content, a.max_tokens)
                assert len(line) + 1 == a.line_bytes, (len(line), a.line_bytes)
            f.write(line)
            f.write("\n")
            total += len(line) + 1
            if i == 0 and a.body_out:
                with open(a.body_out, "w", encoding="ascii") as b:
                    b.write(json.dumps(json.loads(line)["body"], separators=(",", ":")))
    print(f"GEN lines={a.lines} bytes={total}")


def _line(custom_id, endpoint, model, content, max_tokens):
    return json.dumps({
        "custom_id": custom_id, "method": "POST", "url": endpoint,
        "body": {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": max_tokens},
    }, separators=(",", ":"))


if __name__ == "__main__":
    main()
