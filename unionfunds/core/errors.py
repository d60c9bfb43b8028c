"""The one refusal of the service layer.

A service raises ``ApplicationError(code, detail)`` when an action is not allowed in the current state
or would break a rule (a workflow transition, a budget, a duplicate person). The API turns it into
``409 {"code", "detail"}``; pages show ``detail`` as an error message. Bad field input is a Django
``ValidationError`` (400), a role that may not act is ``PermissionDenied`` (403), and an object outside
the user's scope is never found at all (404).
"""


class ApplicationError(Exception):
    def __init__(self, code: str, detail: str, *, extra: dict | None = None, status: int = 409):
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra or {}
        self.status = status  # 409 for rules; 503 when a service the action needs is down

    def as_dict(self) -> dict:
        return {"code": self.code, "detail": str(self.detail), **self.extra}
