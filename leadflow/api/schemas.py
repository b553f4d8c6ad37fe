from ninja import Schema


class ErrorOut(Schema):
    detail: str | list | dict
    code: str | None = None
