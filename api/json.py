"""orjson as Flask's JSON provider, answering `application/json; charset=utf-8`."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from flask.json.provider import JSONProvider as BaseJSONProvider


class JSONProvider(BaseJSONProvider):
    mimetype = "application/json; charset=utf-8"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
        return Response(body, mimetype=self.mimetype)
