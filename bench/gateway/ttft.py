#!/usr/bin/env python3
"""Streaming load with shared prompt prefixes; measures time to first token (TTFT).

A fixed, seeded sequence of requests: each one is a chat whose system message is one of --docs
"documents" (--doc-chars characters each) followed by a short user question. Requests are sent by
--concurrency workers over plain HTTP/1.1 (Connection: close, so no client-side connection pooling
differs between targets). TTFT is the time from writing the request to the first "data:" event.
The usage chunk (stream_options.include_usage) gives prompt and cached tokens, so the prefix-cache
hit rate is measured at the client, identically for every target.

Prints one line: TTFT {json}. Standard library only; bounded by --deadline.
"""
import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from urllib.parse import urlsplit

WORDS = ("gpu node fleet region tide reef lagoon atoll model token cache prefix route latency shard "
         "queue batch kernel tensor weight layer vector stream socket packet cloud zone spot price "
         "budget retry health probe eject drain").split()


def make_docs(count, chars, seed):
    rng = random.Random(seed)
    docs = []
    for i in range(count):
        text = f"Document {i}. "
        while len(text) < chars:
            text += rng.choice(WORDS) + " "
        docs.append(text[:chars])
    return docs


def make_plan(n, docs, seed):
    rng = random.Random(seed + 1)
    plan = []
    for i in range(n):
        d = rng.randrange(len(docs))
        q = f"Question {i}: what does the document say about {rng.choice(WORDS)}?"
        plan.append((d, q))
    return plan


async def one(host, port, path, token, body, timeout):
    """Returns (ttft_s or None, ok, prompt_tokens, cached_tokens)."""
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Accept: text/event-stream\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n").encode()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        started = time.perf_counter()
        writer.write(head + payload)
        await writer.drain()
        data = b""
        ttft = None
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), timeout)
            if not chunk:
                break
            data += chunk
            if ttft is None and b"data:" in data:
                ttft = time.perf_counter() - started
        ok = data.startswith(b"HTTP/1.1 200") and b"[DONE]" in data and b'"error"' not in data
        prompt = re.findall(rb'"prompt_tokens":(\d+)', data)
        cached = re.findall(rb'"cached_tokens":(\d+)', data)
        return ttft, ok, int(prompt[-1]) if prompt else 0, int(cached[-1]) if cached else 0
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--token", default="none")
    p.add_argument("--model", default="bench-model")
    p.add_argument("--docs", type=int, default=8)
    p.add_argument("--doc-chars", type=int, default=2000)
    p.add_argument("--requests", type=int, default=600)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=8)
    p.add_argument("--warmup", type=int, default=40, help="first N requests (in plan order) left out of the steady-state mean")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=30.0, help="per read/connect, seconds")
    p.add_argument("--deadline", type=float, default=90.0, help="stop starting requests after this many seconds")
    p.add_argument("--label", default="")
    a = p.parse_args()

    u = urlsplit(a.url)
    host, port = u.hostname, u.port or 80
    path = u.path.rstrip("/") + "/v1/chat/completions"
    docs = make_docs(a.docs, a.doc_chars, a.seed)
    plan = make_plan(a.requests, docs, a.seed)
    results = [None] * len(plan)
    next_index = 0
    t0 = time.perf_counter()

    async def worker():
        nonlocal next_index
        while next_index < len(plan) and time.perf_counter() - t0 < a.deadline:
            i = next_index
            next_index += 1
            d, q = plan[i]
            body = {"model": a.model, "stream": True, "stream_options": {"include_usage": True},
                    "max_tokens": a.max_tokens,
                    "messages": [{"role": "system", "content": docs[d]}, {"role": "user", "content": q}]}
            try:
                results[i] = await one(host, port, path, a.token, body, a.timeout)
            except (OSError, asyncio.TimeoutError) as e:
                results[i] = (None, False, 0, 0)
                print(f"request {i}: {type(e).__name__}: {e}", file=sys.stderr)

    await asyncio.gather(*(worker() for _ in range(a.concurrency)))
    wall = time.perf_counter() - t0
    done = [(i, r) for i, r in enumerate(results) if r is not None]
    good = [(i, r) for i, r in done if r[1] and r[0] is not None]
    ttfts = [r[0] * 1000 for _, r in good]
    steady = [r[0] * 1000 for i, r in good if i >= a.warmup]
    prompt = sum(r[2] for _, r in good)
    cached = sum(r[3] for _, r in good)

    def pct(xs, q):
        if not xs:
            return float("nan")
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]

    out = {
        "label": a.label, "requests": len(done), "errors": len(done) - len(good), "seconds": round(wall, 2),
        "mean_ms": round(statistics.fmean(ttfts), 2) if ttfts else None,
        "steady_mean_ms": round(statistics.fmean(steady), 2) if steady else None,
        "p50_ms": round(pct(steady, 50), 2), "p90_ms": round(pct(steady, 90), 2), "p99_ms": round(pct(steady, 99), 2),
        "cache_hit_pct": round(100 * cached / prompt, 1) if prompt else 0.0,
    }
    print("TTFT " + json.dumps(out), flush=True)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
