"""A small real HTTP server on 127.0.0.1 that speaks the OpenAI chat API (JSON and server-sent events),
replays scripted replies in order and logs every request. The real `openai` client talks to it.

    with FakeOpenAI() as server:
        server.reply("text")                    # a normal completion
        server.reply(lambda body: "...")        # a completion computed from the request
        server.reply("text", stream_chunks=3)   # the same, when the client asks to stream
        server.fail(500) / server.fail(429)     # an error status
        server.reply("x", delay=5)              # answers after 5 s (a timeout)
        server.reply("partial", truncate=True)  # a stream cut off before [DONE]
        server.reply('{"claims": [', finish="length")  # a reply cut off at the token limit
        server.reply("yes", logprobs={"yes": -0.6, "no": -0.8})  # the first token's top logprobs, when asked
        server.raw(b"<html>Bad gateway</html>")  # HTTP 200 with a body that is not the API's JSON
        server.drop()                           # the connection closed without a response
        server.requests                          # what the client sent (parsed JSON bodies)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini", "test-model")):
        self.replies: list[dict] = []
        self.requests: list[dict] = []
        self.models = models
        self.default: dict | None = None  # replayed when the queue is empty
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def reply(self, content: str, **kw) -> None:
        self.replies.append({"content": content, **kw})

    def fail(self, status: int, message: str = "scripted failure") -> None:
        self.replies.append({"status": status, "message": message})

    def raw(self, body: bytes, content_type: str = "text/html") -> None:
        self.replies.append({"raw": body, "content_type": content_type})

    def drop(self) -> None:
        self.replies.append({"drop": True})

    def _next(self) -> dict:
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
            return self.default or {"status": 500, "message": "no scripted reply left"}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in fake.models]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with fake._lock:
                    fake.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                if body.get("model") not in fake.models:
                    return self._json(
                        404,
                        {
                            "error": {
                                "message": f"The model `{body.get('model')}` does not exist",
                                "type": "invalid_request_error",
                                "code": "model_not_found",
                            }
                        },
                    )
                r = fake._next()
                if r.get("delay"):
                    time.sleep(r["delay"])
                if "status" in r:
                    return self._json(r["status"], {"error": {"message": r["message"], "type": "server_error"}})
                if r.get("drop"):
                    self.close_connection = True
                    return
                if "raw" in r:
                    return self._raw(200, r["content_type"], r["raw"])
                if callable(r.get("content")):  # a reply computed from the request
                    r = {**r, "content": r["content"](body)}
                if body.get("stream"):
                    return self._stream(body, r)
                self._json(200, _completion(body, r["content"], r.get("finish", "stop"), r.get("logprobs")))

            def _json(self, status, obj):
                self._raw(status, "application/json", json.dumps(obj).encode())

            def _raw(self, status, content_type, data):
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                # the client may have given up first (a timeout test): nothing to deliver, no traceback in the log
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _stream(self, body, r):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                content = r["content"]
                n = max(1, r.get("stream_chunks") or len(content) // 4 or 1)
                step = max(1, -(-len(content) // n))
                pieces = [content[i : i + step] for i in range(0, len(content), step)]
                if r.get("truncate"):
                    pieces = pieces[: max(1, len(pieces) // 2)]
                for piece in pieces:
                    self._event(_chunk(body, {"content": piece}))
                if r.get("truncate"):
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._event(_chunk(body, {}, finish="stop"))
                if body.get("stream_options", {}).get("include_usage"):
                    usage = _usage(body, content)
                    self._event(
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": body["model"],
                            "choices": [],
                            "usage": usage,
                        }
                    )
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, obj):
                self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _usage(body: dict, content: str) -> dict:
    prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", [])) // 4
    completion = max(1, len(content) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(body: dict, content: str, finish: str = "stop", top: dict | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
    if top and body.get("logprobs"):  # as OpenAI and llama.cpp give them: the first token, its alternatives
        alternatives = sorted(top.items(), key=lambda t: -t[1])[: body.get("top_logprobs") or 1]
        first = {"token": alternatives[0][0], "logprob": alternatives[0][1], "bytes": None}
        first["top_logprobs"] = [{"token": t, "logprob": lp, "bytes": None} for t, lp in alternatives]
        choice["logprobs"] = {"content": [first]}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body["model"],
        "choices": [choice],
        "usage": _usage(body, content),
    }


def _chunk(body: dict, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body["model"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
