#!/usr/bin/env python3
"""Follows one batch through its statuses for bench/batch/run.sh, timing each phase and the server's memory in it.

  watch.py --server URL --token T [--pid SERVER_PID] (--create FILE --cli ATOLL | --upload FILE | --batch ID)
           [--endpoint E] [--interval 0.1] [--timeout 600] [--cancel-after S] [--out FILE]

--create runs `ATOLL batch create -f FILE --endpoint E` (the CLI uploads and creates) and follows the batch from the
moment the CLI prints its id (the end-to-end time starts just before the CLI is started). --upload streams FILE to
POST /v1/files itself (multipart, purpose=batch, 1 MiB writes, Content-Length set), so the upload is a phase of its
own, then creates the batch with POST /v1/batches. --batch follows a batch created by someone else. The batch is polled every --interval seconds; a phase is the time a status was
seen (upload, validating, in_progress, finalizing, cancelling), so its edges are as precise as the interval.

With --pid, the server's memory is followed: VmRSS sampled every 20 ms, and the kernel's peak (VmHWM) read at the
end of every phase and reset at its start (`echo 5 > /proc/PID/clear_refs`), so each phase gets its own true peak,
not only the sampled one. --cancel-after cancels the batch if it has not reached finalizing that many seconds after
the watch started (the finalizer then still runs, over what finished, and writes batch_cancelled lines for the rest).

Prints one line: WATCH {json} (phases with start, seconds, hwm_kb, max_rss_kb; the final batch object; flags).
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

TERMINAL = {"completed", "failed", "expired", "cancelled"}


class Memory:
    """VmRSS sampler plus per-phase VmHWM (reset through clear_refs at every phase start)."""

    def __init__(self, pid):
        self.pid = pid
        self.phase = None
        self.max_rss = {}
        self.hwm = {}
        self.reset_ok = True
        self.stop = threading.Event()
        self.lock = threading.Lock()
        if pid:
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()

    def _status(self):
        values = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        key, value = line.split(":", 1)
                        values[key] = int(value.split()[0])
        except OSError:
            pass
        return values

    def rss_now(self):
        return self._status().get("VmRSS") if self.pid else None

    def _sample(self):
        while not self.stop.is_set():
            rss = self._status().get("VmRSS")
            with self.lock:
                if rss is not None and self.phase is not None:
                    self.max_rss[self.phase] = max(self.max_rss.get(self.phase, 0), rss)
            time.sleep(0.02)

    def enter(self, phase):
        """Closes the current phase (its VmHWM) and starts `phase` with a reset peak."""
        if not self.pid:
            self.phase = phase
            return
        status = self._status()
        with self.lock:
            if self.phase is not None and "VmHWM" in status:
                self.hwm[self.phase] = max(self.hwm.get(self.phase, 0), status["VmHWM"])
            self.phase = phase
        if phase is not None:
            try:
                with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                    f.write("5")
            except OSError:
                self.reset_ok = False

    def close(self):
        self.enter(None)
        self.stop.set()


class Api:
    def __init__(self, server, token):
        u = urllib.parse.urlsplit(server)
        self.host, self.port = u.hostname, u.port or 80
        self.headers = {"Authorization": f"Bearer {token}"}

    def _conn(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def json(self, method, path, body=None):
        c = self._conn()
        try:
            headers = dict(self.headers)
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            text = r.read()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: HTTP {r.status}: {text[:500]!r}")
            return json.loads(text)
        finally:
            c.close()

    def upload(self, path):
        boundary = "bench" + uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{os.path.basename(path)}\"\r\n"
                f"Content-Type: application/jsonl\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = os.path.getsize(path)
        c = self._conn(timeout=600)
        try:
            c.putrequest("POST", "/v1/files")
            for k, v in self.headers.items():
                c.putheader(k, v)
            c.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            c.putheader("Content-Length", str(len(head) + size + len(tail)))
            c.endheaders()
            c.send(head)
            with open(path, "rb") as f:
                while block := f.read(1 << 20):
                    c.send(block)
            c.send(tail)
            r = c.getresponse()
            text = r.read()
            if r.status >= 300:
                raise RuntimeError(f"upload: HTTP {r.status}: {text[:500]!r}")
            return json.loads(text)
        finally:
            c.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--pid", type=int)
    p.add_argument("--batch")
    p.add_argument("--create")
    p.add_argument("--cli")
    p.add_argument("--upload")
    p.add_argument("--endpoint", default="/v1/chat/completions")
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--cancel-after", type=float)
    p.add_argument("--out")
    a = p.parse_args()
    if sum(map(bool, (a.batch, a.upload, a.create))) != 1 or bool(a.create) != bool(a.cli):
        p.error("give exactly one of --batch, --upload and --create (with --cli)")

    api = Api(a.server, a.token)
    mem = Memory(a.pid)
    result = {"phases": [], "cancelled_by_watch": False, "timed_out": False}
    if a.pid:
        result["idle_rss_kb"] = mem.rss_now()
    phases = []  # [name, start]
    started = time.time()

    def enter(name):
        if phases and phases[-1][0] == name:
            return
        now = time.time()
        mem.enter(name)
        phases.append([name, now])

    cli = None
    if a.create:
        result["t0"] = started
        enter("upload+create")
        env = dict(os.environ, ATOLL_SERVER=a.server, ATOLL_TOKEN=a.token)
        cli = subprocess.Popen([a.cli, "batch", "create", "-f", a.create, "--endpoint", a.endpoint], env=env,
                               stdout=subprocess.PIPE, text=True)
        batch_id = cli.stdout.readline().strip()
        if not batch_id.startswith("batch_"):
            raise SystemExit(f"atoll batch create printed {batch_id!r}, exit code {cli.wait()}")
        result["id_printed_at"] = time.time()
        threading.Thread(target=lambda: (cli.wait(), result.__setitem__("cli_exited_at", time.time())), daemon=True).start()
        batch = api.json("GET", f"/v1/batches/{batch_id}")
        enter(batch["status"])
    elif a.upload:
        result["t0"] = started
        enter("upload")
        f = api.upload(a.upload)
        result["file"] = {"id": f["id"], "bytes": f.get("bytes")}
        batch = api.json("POST", "/v1/batches", {"input_file_id": f["id"], "endpoint": a.endpoint, "completion_window": "24h"})
        batch_id = batch["id"]
        enter(batch["status"])
    else:
        result["t0"] = started
        batch_id = a.batch
        batch = api.json("GET", f"/v1/batches/{batch_id}")
        enter(batch["status"])
    result["batch_id"] = batch_id

    while batch["status"] not in TERMINAL:
        if time.time() - started > a.timeout:
            result["timed_out"] = True
            break
        if (a.cancel_after is not None and not result["cancelled_by_watch"] and time.time() - started > a.cancel_after
                and batch["status"] in ("validating", "in_progress")):
            api.json("POST", f"/v1/batches/{batch_id}/cancel")
            result["cancelled_by_watch"] = True
            result["cancelled_at"] = time.time()
        time.sleep(a.interval)
        asked = time.time()
        batch = api.json("GET", f"/v1/batches/{batch_id}")
        result["poll_max_ms"] = max(result.get("poll_max_ms", 0), round((time.time() - asked) * 1000))
        if batch["status"] not in TERMINAL:
            enter(batch["status"])
    end = time.time()
    mem.close()
    if cli is not None and cli.wait() != 0:
        raise SystemExit(f"atoll batch create exited with {cli.returncode}")
    result["end"] = end
    result["batch"] = batch
    for kind in ("output_file_id", "error_file_id"):
        if batch.get(kind):
            f = api.json("GET", f"/v1/files/{batch[kind]}")
            result[kind.replace("_id", "")] = {"id": f["id"], "bytes": f.get("bytes")}
    for i, (name, start) in enumerate(phases):
        stop = phases[i + 1][1] if i + 1 < len(phases) else end
        result["phases"].append({"name": name, "start": start, "seconds": round(stop - start, 3),
                                 "hwm_kb": mem.hwm.get(name), "max_rss_kb": mem.max_rss.get(name)})
    result["hwm_reset_ok"] = mem.reset_ok if a.pid else None
    line = "WATCH " + json.dumps(result)
    if a.out:
        with open(a.out, "w") as f:
            f.write(line + "\n")
    print(line)
    return 1 if result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
