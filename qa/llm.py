"""The only module that talks to a chat model: any OpenAI-compatible server (OpenAI, Ollama, vLLM,
llama.cpp, LM Studio) through langchain-openai. Retries with backoff are the `openai` client's
(429, 5xx, dropped connections); every failure leaves here as a ModelError saying what to do."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from qa.citations import says_yes
from qa.config import Settings
from qa.errors import (
    ModelAuthError,
    ModelError,
    ModelNotServedError,
    ModelRateLimitError,
    ModelReplyError,
    ModelUnavailableError,
)

# USD per million tokens (input, output), for the cost estimate; unknown models get no estimate
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


_FENCE = re.compile(r"evidence-[0-9a-f]{8}")
TOP_LOGPROBS = 10  # of a yes/no reply's first token: "yes", "Yes", " yes" and the noes are among them


def _remember(path: Path | None, data: dict) -> None:
    """A reply into the reply cache (QA_LLM_CACHE_DIR), written whole or not at all."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _yes_probability(logprobs: dict | None, text: str) -> float:
    """P(yes) / (P(yes) + P(no)) over the first token's top alternatives; the word itself without them."""
    first = ((logprobs or {}).get("content") or [{}])[0].get("top_logprobs") or []
    mass = {"yes": 0.0, "no": 0.0}
    for t in first:
        word = str(t.get("token", "")).strip().casefold()
        if word in mass:
            mass[word] += math.exp(float(t.get("logprob", -math.inf)))
    if mass["yes"] + mass["no"] > 0:
        return round(mass["yes"] / (mass["yes"] + mass["no"]), 4)
    return 1.0 if says_yes(text) else 0.0


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None

    def add(self, other: "Usage") -> "Usage":
        cost = (
            None if self.cost_usd is None and other.cost_usd is None else (self.cost_usd or 0) + (other.cost_usd or 0)
        )
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens, cost)


@dataclass
class Reply:
    text: str
    usage: Usage = field(default_factory=Usage)
    cut: bool = False  # the model stopped at its token limit (QA_LLM_MAX_TOKENS), not because it was done


class ChatModel:
    def __init__(self, settings: Settings):
        from langchain_openai import ChatOpenAI

        self.settings = settings
        self.name = settings.model
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        self._key = key
        self._logprobs = True  # until the server refuses them (yes_probability)
        self.chat = ChatOpenAI(
            model=settings.model,
            api_key=key,
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_retries,
            temperature=0,
            max_tokens=settings.llm_max_tokens,
            stream_usage=True,
        )

    def complete(self, messages: list[tuple[str, str]], schema: dict | None = None) -> Reply:
        """One reply. With a JSON schema, asks for structured output; raises StructuredUnsupported when
        the server refuses response_format, so the caller can fall back to the plain-text form.
        With QA_LLM_CACHE_DIR set, a reply already given to the same request is reused at no cost."""
        path = self._cache_path(messages, schema)
        data = self._cached(path)
        if data is not None:
            usage = Usage(data["prompt_tokens"], data["completion_tokens"], 0.0 if self._price() else None)
            return Reply(data["text"], usage, data["cut"])
        reply = self._complete(messages, schema)
        _remember(
            path,
            {
                "text": reply.text,
                "prompt_tokens": reply.usage.prompt_tokens,
                "completion_tokens": reply.usage.completion_tokens,
                "cut": reply.cut,
                "max_tokens": self.settings.llm_max_tokens,
            },
        )
        return reply

    def _cached(self, path: Path | None) -> dict | None:
        """The reply cached at path if the model would give it under today's QA_LLM_MAX_TOKENS: not one
        longer than the limit (it would now be cut off), nor one cut off at another limit (it would now stop
        elsewhere). Replies are greedy (temperature 0), so any other reply is the same under any limit."""
        if path is None or not path.exists():
            return None
        data = json.loads(path.read_text())
        if "text" not in data:  # a judge's entry (yes_probability), not a reply
            return None
        limit, length = self.settings.llm_max_tokens, data["completion_tokens"]
        cut = data.setdefault("cut", length >= limit)  # entries older than these fields: by length
        fits = data.get("max_tokens", length) == limit if cut else length <= limit
        return data if fits else None

    def yes_probability(self, messages: list[tuple[str, str]]) -> float:
        """A one-word yes/no question: the probability the model gives "yes" against "no" in its first token
        (the server's top logprobs), for a caller to hold to a bar (QA_LLM_JUDGE_THRESHOLD). A server
        that gives no logprobs: 1.0 for a clear yes, else 0.0. Cached as `complete` is."""
        import openai

        path = self._cache_path(messages, "yes-probability")
        if path is not None and path.exists():
            return json.loads(path.read_text())["p_yes"]
        if self._logprobs:
            with self._errors():
                try:
                    msg = self.chat.invoke(messages, logprobs=True, top_logprobs=TOP_LOGPROBS)
                    text, logprobs = _text(msg.content), msg.response_metadata.get("logprobs")
                except openai.BadRequestError:  # reasoning models refuse logprobs: their word from now on
                    self._logprobs = False
        if not self._logprobs:
            text, logprobs = self.complete(messages).text, None
        p = _yes_probability(logprobs, text)
        _remember(path, {"p_yes": p, "text": text})
        return p

    def cached(self, messages: list[tuple[str, str]], schema: dict | None = None) -> bool:
        return self._cached(self._cache_path(messages, schema)) is not None

    def tokens(self, messages: list[tuple[str, str]]) -> int:
        """Prompt tokens by tiktoken (cl100k_base; near enough for an estimate on other models)."""
        from qa.text import count_tokens

        return sum(count_tokens([content for _, content in messages])) + 4 * len(messages)

    def _cache_path(self, messages, schema) -> Path | None:
        if not self.settings.llm_cache_dir:
            return None
        # the fence's name is random per request; the same evidence under another name is the same request
        same = [(role, _FENCE.sub("evidence-*", content)) for role, content in messages]
        key = hashlib.sha256(
            json.dumps([self.name, _server(self.settings.openai_base_url), same, schema]).encode()
        ).hexdigest()
        return Path(self.settings.llm_cache_dir) / f"{key[:32]}.json"

    def _price(self):
        return PRICES.get(self.name)

    def _complete(self, messages: list[tuple[str, str]], schema: dict | None) -> Reply:
        import openai

        kwargs = {}
        if schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": schema, "strict": True},
            }
        with self._errors():
            try:
                msg = self.chat.invoke(messages, **kwargs)
            except openai.BadRequestError as e:
                if schema is not None:
                    raise StructuredUnsupported(str(e)) from None
                raise
            except openai.LengthFinishReasonError as e:
                # cut off at the token limit: what was written goes to the parser like any other reply
                # (a half-written claim cannot carry a checked citation), never an error
                text = e.completion.choices[0].message.content or "" if e.completion.choices else ""
                usage = e.completion.usage
                u = Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage()
                return Reply(text, u, cut=True)
        return Reply(_text(msg.content), self._usage(msg), msg.response_metadata.get("finish_reason") == "length")

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str | Reply]:
        """Text pieces as they come, then the whole Reply. A stream cut off before the model finished is
        a ModelError, never a silently shorter answer."""
        parts: list[str] = []
        usage, finished, cut = Usage(), False, False
        with self._errors():
            for chunk in self.chat.stream(messages):
                piece = _text(chunk.content)
                if piece:
                    parts.append(piece)
                    yield piece
                reason = chunk.response_metadata.get("finish_reason")
                finished, cut = finished or bool(reason), cut or reason == "length"
                if chunk.usage_metadata:
                    usage = self._usage(chunk)
        if not finished:
            raise ModelReplyError("the model's reply was cut off before it finished; try again.")
        yield Reply("".join(parts), usage, cut)

    def _usage(self, msg) -> Usage:
        meta = getattr(msg, "usage_metadata", None) or {}
        u = Usage(meta.get("input_tokens", 0), meta.get("output_tokens", 0))
        price = self._price()
        if price:
            u.cost_usd = round((u.prompt_tokens * price[0] + u.completion_tokens * price[1]) / 1e6, 6)
        return u

    @contextlib.contextmanager
    def _errors(self):
        """openai's exceptions -> one-line ModelErrors that name the fix and never contain the key."""
        import openai

        s = self.settings
        where = s.openai_base_url or "the OpenAI API"
        tries = f"after {s.llm_retries} retries"
        try:
            yield
        except (ModelError, StructuredUnsupported):
            raise
        except openai.AuthenticationError:
            raise ModelAuthError(f"{where} rejected the API key (HTTP 401): check OPENAI_API_KEY.") from None
        except openai.PermissionDeniedError:
            raise ModelAuthError(
                f"{where} refused access (HTTP 403): check the key's permissions for {s.model!r}."
            ) from None
        except openai.NotFoundError:
            raise ModelNotServedError(
                f"{where} does not serve the model {s.model!r}: set QA_MODEL to one it has."
            ) from None
        except openai.APITimeoutError:
            raise ModelUnavailableError(
                f"the model did not answer within {s.llm_timeout:g} s ({tries}): try again, raise "
                "QA_LLM_TIMEOUT, or set QA_MODE=extractive."
            ) from None
        except openai.APIConnectionError:
            raise ModelUnavailableError(
                f"cannot reach the model server at {where} ({tries}): is it running? Check OPENAI_BASE_URL."
            ) from None
        except openai.RateLimitError:
            raise ModelRateLimitError(
                f"{where} is rate limiting (HTTP 429) {tries}: wait a moment and try again."
            ) from None
        except openai.APIStatusError as e:
            raise ModelUnavailableError(f"{where} failed with HTTP {e.status_code} {tries}: try again later.") from None
        except openai.OpenAIError as e:
            raise ModelReplyError(self._redact(f"the model call failed: {type(e).__name__}: {e}")) from None
        except (AttributeError, KeyError, TypeError, ValueError):
            # a 200 whose body is not a chat completion (an HTML error page, another API's JSON): the
            # client fails while reading it
            raise ModelReplyError(
                f"{where} answered with something that is not an OpenAI chat completion: check that "
                "OPENAI_BASE_URL is the server's OpenAI-compatible /v1 address."
            ) from None

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if len(self._key) > 8 else text


class StructuredUnsupported(Exception):
    """The server refused a JSON-schema response_format; use the plain-text form."""


def _server(base_url: str | None) -> str | None:
    """The server as the reply cache knows it: a loopback server's port is dropped, since a local model started
    on a free port gets another one each run, and its model name already says what answers."""
    if not base_url:
        return base_url
    parts = urlsplit(base_url)
    if parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return parts._replace(netloc="127.0.0.1").geturl()
    return base_url


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content or [])
