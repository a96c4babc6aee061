"""``flask.typing`` in compatibility mode: the type aliases extensions annotate with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

ResponseValue = Any
StatusCode = int
HeaderValue = str | list[str] | tuple[str, ...]
HeadersValue = Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]]
ResponseReturnValue = Any
ResponseClass = Any
AppOrBlueprintKey = str | None
AfterRequestCallable = Callable[[Any], Any]
BeforeFirstRequestCallable = Callable[[], None]
BeforeRequestCallable = Callable[[], Any]
ShellContextProcessorCallable = Callable[[], dict[str, Any]]
TeardownCallable = Callable[[BaseException | None], None]
TemplateContextProcessorCallable = Callable[[], dict[str, Any]]
TemplateFilterCallable = Callable[..., Any]
TemplateGlobalCallable = Callable[..., Any]
TemplateTestCallable = Callable[..., bool]
URLDefaultCallable = Callable[[str, dict[str, Any]], None]
URLValuePreprocessorCallable = Callable[[str | None, dict[str, Any] | None], None]
ErrorHandlerCallable = Callable[[Any], Any]
RouteCallable = Callable[..., Any]
WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApplication = Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]
