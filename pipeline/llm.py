"""Structured-output LLM calls through the openai SDK, against any OpenAI-compatible server.

Two retry layers, kept apart: transport retries (tenacity, on rate limits, timeouts, connection
errors and 5xx, honouring Retry-After) and semantic re-asks (the validation error fed back,
capped). When both give up, an LLMError carries the attempts and the token usage, and the
caller falls back to the rule-based extractor.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from pipeline.cache import Cache, cache_key
from pipeline.prompts import Prompt

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

TRANSIENT = (
    openai.RateLimitError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    openai.InternalServerError,
)


class ConfigError(Exception):
    """The LLM cannot be used as configured; the message says what to do."""


class _Unreadable(Exception):
    """A reply that parsed but is no chat completion."""


class LLMError(Exception):
    def __init__(self, message: str, attempts: int, usage: Usage) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.usage = usage


class LLMRefusal(LLMError):
    pass


class LLMUnreachable(LLMError):
    """The server could not be reached: no more requests go to it in this run."""


@dataclass(frozen=True)
class LLMConfig:
    model: str
    api_key: str
    base_url: str | None = None
    concurrency: int = 4
    max_tokens: int = 8192  # the most any one answer may take, whatever its schema allows
    timeout: float = 60.0  # seconds per request
    deadline: float | None = None  # seconds for all the calls of one report
    max_attempts: int = 4  # transport attempts per request
    reasks: int = 2  # semantic re-asks after an invalid answer
    wait_base: float = 0.5  # seconds; doubled per retry when no Retry-After is given
    wait_max: float = 30.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], model: str | None = None, base_url: str | None = None,
        **kwargs: Any,
    ) -> LLMConfig:
        key = env.get("OPENAI_API_KEY", "").strip()
        if not key:
            raise ConfigError(
                "--llm openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for a server other than "
                "OpenAI, BUDGET_LENS_MODEL for the model); set them or use --llm off"
            )
        return cls(
            model=model or env.get("BUDGET_LENS_MODEL") or "gpt-4o-mini",
            api_key=key,
            base_url=base_url or env.get("OPENAI_BASE_URL") or None,
            **kwargs,
        )


@dataclass
class Usage:
    calls: int = 0  # answers received
    requests: int = 0  # every HTTP request sent: retries, re-asks and refused formats included
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, usage: Any) -> None:
        with self._lock:
            self.calls += 1
            if usage is not None:
                self.prompt_tokens += getattr(usage, "prompt_tokens", 0) or 0
                self.completion_tokens += getattr(usage, "completion_tokens", 0) or 0

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("calls", "requests", "cache_hits", "prompt_tokens",
                                               "completion_tokens", "failures")}

    def line(self) -> str:
        return (f"LLM: {self.calls} calls ({self.requests} HTTP requests), {self.cache_hits} cache "
                f"hits, {self.prompt_tokens} "
                f"prompt + {self.completion_tokens} completion tokens, {self.failures} failed chunks")


def _retry_after(exc: BaseException | None) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    if headers.get("retry-after-ms"):
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _format_unsupported(exc: openai.BadRequestError) -> bool:
    text = str(exc).lower()
    return "response_format" in text or "json_schema" in text or "structured" in text


def _short(exc: ValidationError | ValueError) -> str:
    if isinstance(exc, ValidationError):
        errs = exc.errors()[:3]
        return "；".join(f"{'.'.join(str(p) for p in e['loc']) or '整体'}: {e['msg']}" for e in errs)
    return str(exc)[:200]


class _StopAtDeadline(stop_base):
    """Retries stop when the report's deadline has passed."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = self.client._remaining()
        return left is not None and left <= 0


class _PastDeadline(Exception):
    """The report's deadline passed before a request could start."""


def _not_cut(completion: Any, usage: Usage) -> None:
    """A reply the max_tokens cap cut short is one more failure (the rules' claims stand)."""
    if getattr(completion.choices[0], "finish_reason", None) == "length":
        raise LLMError("回复达到max_tokens上限被截断", 1, usage)


def token_budget(schema: type[BaseModel], cap: int) -> int:
    """max_tokens for an answer of `schema`: the longest answer its bounds allow (a CJK character
    about one token, each key and number a few), at most `cap`."""
    spec = schema.model_json_schema()
    defs = spec.get("$defs", {})

    def size(node: dict[str, Any]) -> int:
        if "$ref" in node:
            return size(defs[node["$ref"].rsplit("/", 1)[-1]])
        if "anyOf" in node:
            return max(size(n) for n in node["anyOf"])
        kind = node.get("type")
        if kind == "object":
            return 2 + sum(4 + size(v) for v in node.get("properties", {}).values())
        if kind == "array":
            return 2 + node.get("maxItems", 20) * (1 + size(node.get("items", {})))
        if kind == "string":
            return 2 + node.get("maxLength", max((len(e) for e in node.get("enum", [])), default=50))
        return 8  # a number, a boolean, null

    return min(cap, size(spec))


class LLMClient:
    """One configured model, its cache and its usage totals."""

    def __init__(self, config: LLMConfig, cache: Cache | None = None,
                 client: openai.OpenAI | None = None) -> None:
        self.config = config
        self.cache = cache
        self.usage = Usage()
        self.client = client or openai.OpenAI(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout,
            max_retries=0,  # tenacity is the one transport retry layer
        )
        self.json_schema_ok = True
        # a circuit breaker: once a request gave up on a server that cannot be reached, the
        # run stops calling it (a refused connection costs every chunk all its retries)
        self.unreachable: str | None = None
        self.deadline_at: float | None = None  # time.monotonic() by which all calls end

    def start_deadline(self) -> None:
        """The report's deadline starts now: every request, in flight or not, ends by then."""
        if self.config.deadline is not None:
            self.deadline_at = time.monotonic() + self.config.deadline

    def _remaining(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - time.monotonic()

    # -- public -----------------------------------------------------------------------------
    def structured(self, prompt: Prompt, values: Mapping[str, object], schema: type[T],
                   chunk_hash: str) -> T:
        """The model's answer to the rendered prompt, validated against `schema`."""
        key = cache_key(self.config.model, prompt.version, schema.__name__, chunk_hash)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                with self.usage._lock:
                    self.usage.cache_hits += 1
                return schema.model_validate_json(hit)
        answer = self._ask(prompt.render(**values), schema)
        if self.cache is not None:
            self.cache.put(key, self.config.model, prompt.version, answer.model_dump_json())
        return answer

    # -- layers -----------------------------------------------------------------------------
    def _wait(self, state: RetryCallState) -> float:
        after = _retry_after(state.outcome.exception() if state.outcome else None)
        wait = min(after, self.config.wait_max) if after is not None else min(
            self.config.wait_max, self.config.wait_base * 2 ** (state.attempt_number - 1))
        left = self._remaining()
        return wait if left is None else max(0.0, min(wait, left))

    def _send(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """One request with transport retries; an LLMError when they are used up."""
        if self.unreachable is not None:
            raise LLMUnreachable(self.unreachable, 0, self.usage)

        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_attempt(self.config.max_attempts) | _StopAtDeadline(self),
            wait=self._wait,
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    left = self._remaining()
                    if left is not None and left <= 0:
                        raise _PastDeadline()
                    attempts += 1
                    with self.usage._lock:
                        self.usage.requests += 1
                    # a request in flight at the report's deadline is cut there
                    timeout = self.config.timeout if left is None else min(self.config.timeout, left)
                    reply = fn(model=self.config.model, temperature=0, timeout=timeout, **kwargs)
                    if not hasattr(reply, "choices") or not reply.choices:
                        raise _Unreadable(type(reply).__name__)
                    return reply
        except TRANSIENT as exc:
            left = self._remaining()
            if left is not None and left <= 0:
                raise LLMError(f"已到{self.config.deadline:g}秒期限（{exc}）", attempts,
                               self.usage) from None
            if isinstance(exc, openai.APIConnectionError) and not isinstance(
                    exc, openai.APITimeoutError):
                self.unreachable = (f"无法连接LLM服务器{self.config.base_url or ''}"
                                    f"（{attempts}次尝试：{exc}），本次运行不再调用")
                raise LLMUnreachable(self.unreachable, attempts, self.usage) from None
            raise LLMError(f"gave up after {attempts} attempts: {exc}", attempts,
                           self.usage) from None
        except _PastDeadline:
            raise LLMError(f"已到{self.config.deadline:g}秒期限", attempts, self.usage) from None
        except openai.LengthFinishReasonError:
            raise LLMError("回复达到max_tokens上限被截断", attempts, self.usage) from None
        except (_Unreadable, AttributeError, TypeError, openai.APIResponseValidationError,
                json.JSONDecodeError) as exc:
            # a 200 whose body is no chat completion (an HTML error page, a wrong base URL,
            # bytes): one more failure that falls back to the rules
            raise LLMError(f"服务器的回复不是对话补全的 JSON（{type(exc).__name__}），"
                           "请检查 OPENAI_BASE_URL", attempts, self.usage) from None
        raise AssertionError("unreachable")

    def _ask(self, messages: list[dict[str, str]], schema: type[T]) -> T:
        if self.json_schema_ok:
            try:
                return self._parse(messages, schema)
            except openai.BadRequestError as exc:
                if not _format_unsupported(exc):
                    raise LLMError(f"request rejected: {exc}", 1, self.usage) from None
                log.info("server has no json_schema output; using json_object with validation")
                self.json_schema_ok = False
            except (ValidationError, ValueError) as exc:
                return self._json_object(messages, schema, feedback=(None, _short(exc)))
        return self._json_object(messages, schema)

    def _parse(self, messages: list[dict[str, str]], schema: type[T]) -> T:
        completion = self._send(self.client.chat.completions.parse, messages=messages,
                                response_format=schema,
                                max_tokens=token_budget(schema, self.config.max_tokens))
        self.usage.count(completion.usage)
        _not_cut(completion, self.usage)
        message = completion.choices[0].message
        if getattr(message, "refusal", None):
            raise LLMRefusal(f"the model refused: {message.refusal}", 1, self.usage)
        if message.parsed is None:
            raise ValueError("the answer holds no JSON object")
        return message.parsed

    def _json_object(self, messages: list[dict[str, str]], schema: type[T],
                     feedback: tuple[str | None, str] | None = None) -> T:
        schema_text = json.dumps(schema.model_json_schema(), ensure_ascii=False)
        msgs = [
            {"role": "system", "content": f"{messages[0]['content']}\n\nJSON Schema：{schema_text}"},
            *messages[1:],
        ]
        if feedback is not None:
            msgs.append({"role": "user", "content": self._reask_text(feedback[1])})
        for attempt in range(self.config.reasks + 1):
            completion = self._send(self.client.chat.completions.create, messages=msgs,
                                    response_format={"type": "json_object"},
                                    max_tokens=token_budget(schema, self.config.max_tokens))
            self.usage.count(completion.usage)
            _not_cut(completion, self.usage)
            message = completion.choices[0].message
            if getattr(message, "refusal", None):
                raise LLMRefusal(f"the model refused: {message.refusal}", attempt + 1, self.usage)
            content = message.content or ""
            try:
                return schema.model_validate_json(content)
            except ValidationError as exc:
                if attempt == self.config.reasks:
                    raise LLMError(f"no valid answer after {attempt + 1} tries: {_short(exc)}",
                                   attempt + 1, self.usage) from None
                msgs += [{"role": "assistant", "content": content},
                         {"role": "user", "content": self._reask_text(_short(exc))}]
        raise AssertionError("unreachable")

    @staticmethod
    def _reask_text(error: str) -> str:
        return f"上一次的输出不符合要求：{error}。请只输出一个符合上述 JSON Schema 的 JSON 对象。"
